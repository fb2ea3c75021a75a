"""Statements benchmark: a month's statements for every contract beside a bare GROUP BY."""
