"""Texts to signals: sentiment scoring, aspects and attribution-channel classification."""
