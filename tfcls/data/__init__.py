"""Data: datasets (formats, validation, weights), splits and folds, text cleaning.

``dataset`` loads and checks a labelled file; ``splits`` makes the seeded stratified
splits and folds; ``text`` cleans texts and joins title and description exactly as the
browser does.
"""
