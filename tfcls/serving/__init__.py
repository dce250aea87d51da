"""Serving: the Flask app (web client, bundles, model/feedback/predict API)."""
