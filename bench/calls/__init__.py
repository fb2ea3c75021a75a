"""Call log benchmark: a month's CSV over HTTP beside a raw COPY, then its samples drawn."""
