"""Figures: what the database says about a contract's month."""
