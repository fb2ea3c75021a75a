"""Personal data of the agents (DESIGN 18): retention, access and erasure, each recorded."""
