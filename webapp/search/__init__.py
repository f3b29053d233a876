"""Finding questions by their words."""
