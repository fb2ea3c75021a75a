"""The HTTP edge: errors and their one shape, schemas, paging, downloads, who calls."""
