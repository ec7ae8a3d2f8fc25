"""The report's headline figures: the ratios a reader wants first, each computed from
figures measured in the same run (the sections below hold the figures themselves)."""

from __future__ import annotations

from statistics import median

from bookkeeping.bench.callmix import METHODS
from bookkeeping.bench.results import RunResults

NOT_MEASURED = "not measured in this run."


def _times(ratio: float) -> str:
    return f"{ratio:.1f}×" if ratio < 100 else f"{ratio:,.0f}×"


def largest_share(results: RunResults, path: str) -> tuple[str, float] | None:
    """The method taking the largest part of ``path``'s stream time, and that part."""
    total = results.mix_totals.get(path)
    spent = {m: s["mean_us"] * s["calls"] / 1e6 for m, s in results.mix.get(path, {}).items()}
    if not total or not spent:
        return None
    method = max(spent, key=lambda m: spent[m])
    return method, spent[method] / total


def call_mix(results: RunResults) -> str:
    base = results.mix_totals.get("warehouse")
    others = [p for p in results.mix if p != "warehouse"]
    if not base or not others:
        return NOT_MEASURED
    parts = []
    for path in others:
        per_method = [
            results.mix[path][m]["median_us"] / results.mix["warehouse"][m]["median_us"]
            for m in METHODS
            if m in results.mix[path] and m in results.mix["warehouse"]
        ]
        spread = (
            f" (per-method medians {_times(min(per_method))} to {_times(max(per_method))}, "
            f"median {_times(median(per_method))})"
            if per_method
            else ""
        )
        parts.append(
            f"{results.mix_labels[path]} **{_times(results.mix_totals[path] / base)}**{spread}"
        )
    calls = sum(int(s["calls"]) for s in results.mix["warehouse"].values())
    text = (
        f"the whole stream of {calls:,} calls takes, relative to the warehouse "
        f"({base:,.1f} s): " + "; ".join(parts) + "."
    )
    share = largest_share(results, "warehouse")
    if share is not None and share[1] >= 0.5:
        # One method can dominate a stream: the reader must know before reading a ratio.
        text += f" `{share[0]}` takes {share[1]:.0%} of the warehouse's stream time."
    return text


def dump(results: RunResults) -> str:
    slopes = results.dump_slopes()
    if "driver" not in slopes:
        return NOT_MEASURED
    base = slopes["driver"].slope
    parts = [f"driver cursor {base * 1e6:.2f} µs/row"]
    parts += [
        f"{results.dump_labels[p]} {line.slope * 1e6:.2f} (**{_times(line.slope / base)}**)"
        for p, line in slopes.items()
        if p != "driver"
    ]
    text = "slopes, relative to the driver cursor (the seed's JDBC path): " + "; ".join(parts)
    if "catalogue" in slopes:
        ratio = slopes["catalogue"].slope / base
        verdict = "steeper than" if ratio > 1.05 else "not steeper than"
        text += (
            f". The seed found the catalogue's slope steeper than JDBC's; here the catalogue "
            f"engine's is {verdict} the driver cursor's ({_times(ratio)})"
        )
    return text + "."


def selection(results: RunResults) -> str:
    warehouse = results.selection.get("warehouse join", {})
    views = results.selection.get("catalogue roottree + shards", {})
    sizes = sorted(set(warehouse) & set(views))
    if not sizes:
        return NOT_MEASURED
    parts = [
        f"{n:,} files: {views[n].median * 1e3:,.1f} ms vs {warehouse[n].median * 1e3:,.1f} ms "
        f"(views **{_times(warehouse[n].median / views[n].median)}** faster)"
        if warehouse[n].median >= views[n].median
        else f"{n:,} files: {views[n].median * 1e3:,.1f} ms vs "
        f"{warehouse[n].median * 1e3:,.1f} ms (views "
        f"**{_times(views[n].median / warehouse[n].median)}** slower)"
        for n in sizes
    ]
    return "median latency, views (roottree + shards) vs warehouse join: " + "; ".join(parts) + "."


def writes(results: RunResults) -> str:
    if not results.writes:
        return NOT_MEASURED
    counts = sorted({writers for _, writers in results.writes})
    parts = []
    for writers in counts:
        w = results.writes.get(("warehouse", writers))
        c = results.writes.get(("catalogue", writers))
        cells = []
        if w:
            cells.append(f"warehouse {w['files_per_s']:,.0f}")
        if c:
            cells.append(f"catalogue {c['files_per_s']:,.0f}")
        ratio = (
            f", catalogue/warehouse {c['files_per_s'] / w['files_per_s']:.2f}" if w and c else ""
        )
        parts.append(f"{writers} writer{'s' if writers > 1 else ''}: " + ", ".join(cells) + ratio)
    return "files/s recorded: " + "; ".join(parts) + "."


def concurrency(results: RunResults) -> str:
    if not results.concurrency:
        return NOT_MEASURED
    parts = []
    for target, by_clients in results.concurrency.items():
        clients = sorted(by_clients)
        first, last = clients[0], clients[-1]
        peak = max(clients, key=lambda n: by_clients[n]["calls_per_s"])
        parts.append(
            f"{target} {by_clients[first]['calls_per_s']:,.0f} calls/s with {first} → "
            f"{by_clients[last]['calls_per_s']:,.0f} with {last} (peak "
            f"{by_clients[peak]['calls_per_s']:,.0f} at {peak}; p95 "
            f"{by_clients[first]['p95_ms']:.1f} → {by_clients[last]['p95_ms']:.1f} ms)"
        )
    return "throughput of point look-ups by client processes: " + "; ".join(parts) + "."


def seed_queries(results: RunResults) -> str:
    parts = []
    for query, by_path in results.seed.items():
        base = by_path.get("warehouse_sql")
        if base is None:
            continue
        ratios = [
            f"{results.seed_labels[p]} {_times(t.median / base.median)}"
            for p, t in by_path.items()
            if p != "warehouse_sql"
        ]
        parts.append(
            f"{query.replace('_', ' ')} ({base.median * 1e6:,.0f} µs in warehouse SQL): "
            + ", ".join(ratios)
        )
    return (
        ("median relative to the warehouse's SQL: " + "; ".join(parts) + ".")
        if parts
        else (NOT_MEASURED)
    )


def headline(results: RunResults) -> list[str]:
    return [
        f"- **Random call mix**: {call_mix(results)}",
        f"- **Table dump**: {dump(results)}",
        f"- **The seed's two queries**: {seed_queries(results)}",
        f"- **Dataset selection**: {selection(results)}",
        f"- **Writes**: {writes(results)}",
        f"- **Concurrency**: {concurrency(results)}",
    ]
