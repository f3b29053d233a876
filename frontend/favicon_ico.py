"""Draws static/favicon.ico from static/favicon.svg: our own icon at 16, 32 and 48 px,
rendered by Debian's chromium and packed as PNG images in one ICO file (the ICO format
has held PNGs since Windows Vista; every browser reads them). Run it again after
changing the SVG, and commit both:

    .venv/bin/python frontend/favicon_ico.py"""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "static" / "favicon.svg"
ICO = ROOT / "static" / "favicon.ico"
SIZES = (16, 32, 48)


def render(sizes=SIZES) -> list[bytes]:
    markup = SVG.read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page()
        images = []
        for size in sizes:
            page.set_viewport_size({"width": size, "height": size})
            page.set_content(f'<body style="margin:0">{markup.replace("<svg ", f"<svg width={size} height={size} ", 1)}')
            images.append(page.screenshot(omit_background=True))
        browser.close()
    return images


def ico(images: list[bytes], sizes=SIZES) -> bytes:
    """ICONDIR, then one ICONDIRENTRY per image, then the images."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, bodies = b"", b""
    for size, png in zip(sizes, images, strict=True):
        # width and height 0 mean 256; 32 bits per pixel; PNG data at `offset`.
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset)
        bodies += png
        offset += len(png)
    return header + entries + bodies


if __name__ == "__main__":
    ICO.write_bytes(ico(render()))
    print(f"{ICO.relative_to(ROOT)}: {ICO.stat().st_size} bytes")
