"""Readers follow questions: the Follow button, /account/following, a private feed, and
a daily email digest of what changed."""
