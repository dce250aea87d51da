"""Evaluation: how good a run or a procedure is.

``evaluate`` scores a run on its test split or another dataset; ``crossval`` cross-
validates the whole procedure; ``metrics`` the figures; ``report`` the HTML report.
"""
