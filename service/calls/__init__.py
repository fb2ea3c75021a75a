"""The call log and its samples: volumes anyone can check, audits nobody can steer (DESIGN 13)."""
