"""Scorecards benchmark: the suppliers page and GET /api/v1/scorecards under HTTP load (wrk)."""
