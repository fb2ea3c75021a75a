"""Operators' privacy (DESIGN 18): what the client side reads of the supplier's agents."""
