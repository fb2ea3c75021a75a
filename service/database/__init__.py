"""The database: the engine and its column types, migrations, partitions, outages, and the
stamps of months' inputs."""
