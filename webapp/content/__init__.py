"""Answer content as Markdown files: parsing, rendering, import and export."""
