"""What a reader sees of the explorer's drawing, measured in the browser: where each
label is on the screen and how big its letters come out, which number each circle
shows, and how much of the drawing's height is drawing."""
from __future__ import annotations

from dataclasses import dataclass

# Every <text> of the drawing as the screen shows it: its box (getBBox, through the
# SVG's scaling), its letters' size in CSS px, and the question it belongs to.
_FACTS = """() => {
  const svg = document.querySelector(".graph-drawing svg");
  const toScreen = (element, box) => {
    const m = element.getScreenCTM();
    const corners = [[box.x, box.y], [box.x + box.width, box.y + box.height]].map(([x, y]) => {
      const p = new DOMPoint(x, y).matrixTransform(m);
      return [p.x, p.y];
    });
    return [corners[0][0], corners[0][1], corners[1][0], corners[1][1]];
  };
  const labels = [...svg.querySelectorAll("text")].map(t => ({
    text: t.textContent.trim(),
    box: toScreen(t, t.getBBox()),
    px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
    href: t.closest("a") ? t.closest("a").getAttribute("href") : null,
    centre: !!t.closest(".hop-0"),
  }));
  const shapes = [...svg.querySelectorAll("circle, rect")].map(s => ({
    box: toScreen(s, s.getBBox()), href: s.closest("a") ? s.closest("a").getAttribute("href") : null,
    centre: !!s.closest(".hop-0"),
  }));
  const drawn = svg.getBBox();
  const view = svg.viewBox.baseVal;
  const listed = [...document.querySelectorAll(".neighbourhood li")].map(li => ({
    number: li.querySelector(".node-number") ? li.querySelector(".node-number").textContent.trim() : null,
    href: li.querySelector("a").getAttribute("href"),
  }));
  return {labels, shapes, listed, drawnHeight: drawn.height, viewHeight: view.height,
          drawnWidth: drawn.width, viewWidth: view.width};
}"""


@dataclass
class Label:
    text: str
    box: tuple[float, float, float, float]  # left, top, right, bottom in CSS px
    px: float
    href: str | None
    centre: bool


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class Drawing:
    def __init__(self, page):
        facts = page.evaluate(_FACTS)
        self.labels = [Label(d["text"], tuple(d["box"]), d["px"], d["href"], d["centre"]) for d in facts["labels"]]
        self.shapes = facts["shapes"]
        self.listed = facts["listed"]
        self.filled_height = facts["drawnHeight"] / facts["viewHeight"]
        self.filled_width = facts["drawnWidth"] / facts["viewWidth"]

    def overlapping_labels(self) -> list[tuple[str, str]]:
        return [(a.text, b.text) for i, a in enumerate(self.labels) for b in self.labels[i + 1:]
                if overlap(a.box, b.box)]

    def labels_under_other_shapes(self) -> list[str]:
        """Labels that another question's circle (or the centre's box) covers."""
        return [label.text for label in self.labels for shape in self.shapes
                if (shape["href"], shape["centre"]) != (label.href, label.centre) and overlap(label.box, shape["box"])]

    def numbers(self) -> dict[str, str]:
        """Each drawn question's link -> the number it shows."""
        return {label.href: label.text for label in self.labels if label.href}

    def listed_numbers(self) -> dict[str, str | None]:
        return {item["href"]: item["number"] for item in self.listed}

    def centre_name(self) -> str:
        return " ".join(label.text for label in self.labels if label.centre)

    def smallest_letters(self) -> float:
        return min(label.px for label in self.labels)
