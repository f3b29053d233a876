"""Questions, their answers (summary, sections, sources) and categories."""
