"""Readers ask their own questions: the form, the "Is it one of these?" offer, review."""
