"""Benchmarks (``python -m tfcls.bench``): figures for BENCHMARKS.md, off the runtime path.

``public`` runs BANKING77/HWU64 protocols; ``quality`` repeated k-fold of the default
procedure; ``browser`` the bundle in headless Chromium; ``serving`` feedback throughput
and retraining time.
"""
