"""Horizontal bar charts as data for the ``chart.svg`` template (no JavaScript, no CDN).

Two layouts of the same chart: ``wide`` (label, bar and value on one line) and ``narrow``
(the label above its bar), which pages offer to phones through ``<picture>`` so that the
text stays at its size instead of being scaled down with a wide chart.
"""

from __future__ import annotations

from dataclasses import dataclass

from webui.formatting import human_bytes, thousands

LAYOUTS = ("wide", "narrow")
BAR_HEIGHT = 22
GAP = 6
TOP = 34
MAX_BARS = 40


@dataclass(frozen=True)
class Geometry:
    label_width: int  # 0: labels go above their bars
    bar_width: int
    value_width: int
    label_height: int  # room above each bar for its label
    label_chars: int  # labels longer than this are cut (the full text is in the tooltip)


GEOMETRIES = {
    "wide": Geometry(label_width=170, bar_width=330, value_width=100, label_height=0,
                     label_chars=24),
    "narrow": Geometry(label_width=0, bar_width=250, value_width=90, label_height=17,
                       label_chars=44),
}  # fmt: skip


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the value as shown
    y: int  # top of the bar
    width: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    geometry: Geometry
    bar_height: int
    omitted: int  # bars left out beyond MAX_BARS


def bar_chart(
    title: str, items: list[tuple[str, int]], *, unit: str, layout: str = "wide"
) -> Chart:
    """``unit`` is ``"bytes"`` (shown as kB/MB/GB) or anything else (shown as a count)."""
    geometry = GEOMETRIES[layout]
    shown = items[:MAX_BARS]
    largest = max((value for _label, value in shown), default=0) or 1
    step = geometry.label_height + BAR_HEIGHT + GAP
    bars = tuple(
        Bar(
            label=label,
            value=value,
            text=human_bytes(value) if unit == "bytes" else thousands(value),
            y=TOP + index * step + geometry.label_height,
            width=round(geometry.bar_width * value / largest, 1),
        )
        for index, (label, value) in enumerate(shown)
    )
    height = TOP + len(bars) * step + (24 if len(items) > MAX_BARS else 8)
    return Chart(
        title=title,
        bars=bars,
        width=geometry.label_width + geometry.bar_width + geometry.value_width,
        height=max(height, 56),
        geometry=geometry,
        bar_height=BAR_HEIGHT,
        omitted=max(0, len(items) - MAX_BARS),
    )
