"""The database: engine and sessions, migrations, partitions, outages, every model."""
