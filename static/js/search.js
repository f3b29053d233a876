// search: behaviour of its own (none yet). Improves a page that already works without it.
