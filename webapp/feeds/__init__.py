"""Feeds and crawlers: Atom feeds of new and re-checked answers (site-wide and per
category) and of corrections, the sitemap (split into pages past 50,000 URLs) and
robots.txt. docs/feeds.md says what each address gives."""
