"""Language and formats: the catalogs, numbers, money and dates, the words for codes."""
