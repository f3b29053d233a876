"""Questions linked to questions: related links, suggestions, and the graph around them."""
