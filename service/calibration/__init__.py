"""Calibration sessions: blind scoring of the same calls, and the agreement measured (DESIGN 17)."""
