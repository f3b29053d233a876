"""Accessibility checks in a real browser: axe-core over a page, and the WCAG contrast of
an element's text as the reader sees it (computed colours, composited on its background).

axe-core comes from npm (`npm ci` puts it in node_modules/; package.json pins it)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.apps import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Until every htmx request of the page has been answered and swapped in: the supporter
# widget, the counts of a search, a section's body. axe must see what the reader sees.
BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .is-loading, [aria-busy='true']"
SETTLED = f"""() => document.readyState === "complete" && !document.querySelector("{BUSY}")"""

# axe's default run: the WCAG 2.0/2.1/2.2 A and AA rules and its best practices (not the
# AAA or experimental ones). Only the violations come back, which is quicker.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
  }));
}"""


@cache
def axe_source() -> str:
    if not AXE.exists():
        missing = f"axe-core is not installed ({AXE}): run `npm ci`"
        if os.environ.get("CI") == "true":
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    return AXE.read_text()


@dataclass
class Violation:
    where: str  # the page and how it was seen, e.g. "answer page (desktop, dark)"
    rule: str
    impact: str
    help: str
    targets: list[str]
    summary: str  # axe's "Fix any of the following" for the first element

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:5]) + (f" and {len(self.targets) - 5} more" if len(self.targets) > 5 else "")
        first_fix = re.sub(r"\s+", " ", self.summary).strip()
        return f"{self.where}: {self.rule} ({self.impact}) {self.help} — {shown}" + (f" — {first_fix}" if first_fix else "")


def settle(page) -> None:
    try:
        page.wait_for_function(SETTLED)
    except PlaywrightTimeout:
        busy = page.evaluate(f"""() => Array.from(document.querySelectorAll("{BUSY}"),
            e => e.outerHTML.slice(0, 160))""")
        raise AssertionError(f"{page.url} never settled; still loading: {busy}") from None


def axe_violations(page, where: str) -> list[Violation]:
    """axe-core's violations on the page as it stands, once its htmx requests are done.

    Injected through the DevTools protocol, not a <script> tag: the site's CSP allows
    no inline script, and the check must not need a hole in it."""
    settle(page)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return [Violation(where, v["rule"], v["impact"], v["help"], [n["target"] for n in v["nodes"]],
                      v["nodes"][0]["summary"] if v["nodes"] else "")
            for v in page.evaluate(RUN_AXE)]


def report(violations: list[Violation]) -> str:
    """One line per rule and page, grouped by rule so a fix's reach shows at a glance."""
    ordered = sorted(violations, key=lambda v: (v.rule, v.where))
    rules = sorted({v.rule for v in violations})
    return (f"{len(violations)} axe violation(s) of {len(rules)} rule(s) ({', '.join(rules)}):\n"
            + "\n".join(f"  - {v}" for v in ordered))


# --- contrast ----------------------------------------------------------------------------

# The text colour and the background behind it, both as opaque sRGB [r, g, b] (0-255):
# each ancestor's background painted in a 1×1 canvas from the root down, then the text
# colour over it. The canvas turns any CSS colour (rgb(), color-mix(), oklab()…) into
# sRGB and does the alpha compositing. Background images (gradients) are not counted.
COLOURS = """element => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const paint = canvas.getContext("2d", {willReadFrequently: true});
  const pixel = () => Array.from(paint.getImageData(0, 0, 1, 1).data.slice(0, 3));
  const layers = [];
  for (let node = element; node; node = node.parentElement) layers.push(getComputedStyle(node).backgroundColor);
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  paint.fillStyle = dark ? "#000" : "#fff";  // the canvas under a page with no background of its own
  paint.fillRect(0, 0, 1, 1);
  for (const colour of layers.reverse()) { paint.fillStyle = colour; paint.fillRect(0, 0, 1, 1); }
  const background = pixel();
  paint.fillStyle = getComputedStyle(element).color;
  paint.fillRect(0, 0, 1, 1);
  return {text: pixel(), background};
}"""


def _luminance(rgb: list[int]) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: list[int], second: list[int]) -> float:
    """WCAG 2's contrast ratio of two opaque sRGB colours, 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_contrast(locator) -> float:
    """The contrast of the first matching element's text against what is behind it."""
    colours = locator.first.evaluate(COLOURS)
    return contrast_ratio(colours["text"], colours["background"])


# --- reading width -----------------------------------------------------------------------

# Characters on the longest line the reader sees: each visible character's box in text
# order, and a new line wherever one starts left of the one before it.
LONGEST_LINE = """element => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let longest = 0, count = 0, left = -Infinity;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(".visually-hidden")) continue;  // clipped away, only heard
    for (let i = 0; i < node.length; i++) {
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getClientRects()[0];
      if (!box || box.width === 0) continue;  // whitespace that collapsed, or a hidden node
      if (box.left < left - 1) count = 0;
      left = box.left;
      longest = Math.max(longest, ++count);
    }
  }
  return longest;
}"""


def longest_line(locator) -> int:
    """How many characters the longest rendered line of the element holds."""
    return locator.first.evaluate(LONGEST_LINE)
