"""The customer's voice and the client's own count (DESIGN §16), and the month's KPIs."""
