"""Bundles: the TF.js export of a run and the registry of published versions.

``export`` converts a run, measures fidelity in Node and publishes atomically; ``ab``
assigns clients to versions and reports acceptance per version.
"""
