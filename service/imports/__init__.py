"""Systems in (DESIGN §19): call records and QM exports read as the systems write them."""
