"""Decision: calibrated probabilities and what a client does with them.

``calibration`` fits the temperature and chooses the auto-select and unknown thresholds;
``unknown`` scores how far a text is from every known category; ``predictor`` loads a
run and applies the rule to texts.
"""
