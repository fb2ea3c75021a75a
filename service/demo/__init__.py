"""The demo: the seed that builds a world through the services, and the demo's data."""
