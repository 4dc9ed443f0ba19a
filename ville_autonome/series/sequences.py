"""Sets of envelope sequence numbers as compact ranges, and the gaps between them (pure).

Stored as text ``"5-9,11,14-20"`` so that one row/point per write batch records every envelope
of a gateway that batch stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ville_autonome.series.values import SequenceGap


def to_ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted, merged inclusive ranges covering ``seqs``."""
    out: list[tuple[int, int]] = []
    for s in sorted(set(seqs)):
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def format_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def parse_ranges(text: str) -> list[tuple[int, int]]:
    """Inverse of :func:`format_ranges`; raises ``ValueError`` on anything else."""
    out = []
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        lo, hi = int(a), int(b) if b else int(a)
        if lo < 0 or hi < lo:
            raise ValueError(f"bad sequence range {part!r}")
        out.append((lo, hi))
    return out


def holes(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The inclusive ranges missing between the merged ``ranges``."""
    merged = merge_ranges(ranges)
    return [(merged[i][1] + 1, merged[i + 1][0] - 1) for i in range(len(merged) - 1)]


def gaps_from(rows: Sequence[tuple[str, str]]) -> list[SequenceGap]:
    """Gaps per gateway from ``(gateway, ranges text)`` records, whoever wrote them."""
    per: dict[str, list[tuple[int, int]]] = {}
    for gw, text in rows:
        per.setdefault(gw, []).extend(parse_ranges(text))
    return [SequenceGap(gw, a, b) for gw in sorted(per) for a, b in holes(per[gw])]
