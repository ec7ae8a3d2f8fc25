"""Horizontal bar charts as data for the ``chart.svg`` template (no JavaScript, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

from webui.formatting import human_bytes, thousands

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 180
BAR_WIDTH = 420
VALUE_WIDTH = 110
TOP = 34
MAX_BARS = 40


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the value as shown
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_height: int
    omitted: int  # bars left out beyond MAX_BARS


def bar_chart(title: str, items: list[tuple[str, int]], *, unit: str) -> Chart:
    """``unit`` is ``"bytes"`` (shown as kB/MB/GB) or anything else (shown as a count)."""
    shown = items[:MAX_BARS]
    largest = max((value for _label, value in shown), default=0) or 1
    bars = tuple(
        Bar(
            label=label,
            value=value,
            text=human_bytes(value) if unit == "bytes" else thousands(value),
            y=TOP + index * (BAR_HEIGHT + GAP),
            width=round(BAR_WIDTH * value / largest, 1),
        )
        for index, (label, value) in enumerate(shown)
    )
    height = TOP + len(bars) * (BAR_HEIGHT + GAP) + (24 if len(items) > MAX_BARS else 8)
    return Chart(
        title=title,
        bars=bars,
        width=LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        height=height,
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        omitted=max(0, len(items) - MAX_BARS),
    )
