"""Site-wide pages and behaviour: about, health, errors, response headers."""
