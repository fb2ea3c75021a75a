"""Disputes of audits: opened by the supplier, decided, escalated, arbitrated (DESIGN 12)."""
