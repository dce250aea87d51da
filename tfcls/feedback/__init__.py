"""Feedback: the store of human verdicts and retraining from them.

``store`` keeps verdicts (SQLite or PostgreSQL); ``retrain`` turns them into examples,
trains a candidate, gates it on held-out feedback and promotes it.
"""
