"""From one poll's answers to readings: the per-device decoding plan, made once. Pure: no I/O.

A poller's read requests (``gateway.planning``) carry every point with its decoder. What depends
on the device's role — which points carry a quantity, and which quantity — and which points are
scale factors does not change from one poll to the next: :class:`AnswerDecoder` works it out
once per plan, so that a poll only unpacks values, applies scale factors and judges quality
(``gateway.quality``). At a thousand devices a second this is the gateway's main CPU per poll
beside the Modbus client (bench/bench_gateway.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ville_autonome.gateway.planning import ReadRequest
from ville_autonome.gateway.quality import ValueTracker
from ville_autonome.readings.model import Quality, Reading
from ville_autonome.registers.block_decode import PointDecoder, WordBlock
from ville_autonome.registers.codec import DecodedValue, DecodeReason

# one request's answer: the words (None if the request failed) and the failure's quality
Answer = tuple[Sequence[int] | None, Quality | None]


class _ScalePoint(NamedTuple):
    name: str
    decoder: PointDecoder
    offset: int
    registers: int


class _Emitted(NamedTuple):
    quantity: str
    decoder: PointDecoder
    offset: int
    registers: int
    scale_factor: str | None  # the name of the point holding its scale factor


class _RequestPlan(NamedTuple):
    scale_points: tuple[_ScalePoint, ...]
    emitted: tuple[_Emitted, ...]


class AnswerDecoder:
    """The readings of a device of ``role`` from the answers to ``requests`` (in their order)."""

    def __init__(self, requests: Sequence[ReadRequest], role: str) -> None:
        plans = []
        for req in requests:
            scale_points = tuple(
                _ScalePoint(pp.point.name, pp.decoder, pp.offset, pp.point.count)
                for pp in req.planned
                if pp.point.datatype == "sunssf"
            )
            emitted = tuple(
                _Emitted(quantity, pp.decoder, pp.offset, pp.point.count, pp.point.scale_factor)
                for pp in req.planned
                if (quantity := pp.point.quantity_for(role)) is not None
            )
            plans.append(_RequestPlan(scale_points, emitted))
        self.plans: tuple[_RequestPlan, ...] = tuple(plans)

    def readings(self, device: str, answers: Sequence[Answer], ts_ms: int, tracker: ValueTracker) -> list[Reading]:
        """Every point of every request decoded in place (``registers.block_decode``); a failed
        request gives its points' readings without value, with the failure's quality. A value
        takes the decoder's fast path (``PointDecoder.fast_value``) unless something about it is
        unusual, which the full decoding then names."""
        if len(answers) != len(self.plans):
            raise ValueError(f"{len(answers)} answers for {len(self.plans)} requests")
        blocks = [WordBlock(words) if words is not None else None for words, _ in answers]
        factors: dict[str, int | DecodedValue] = {}  # a usable scale factor, or why it is not
        for block, plan in zip(blocks, self.plans, strict=True):
            if block is not None:
                for sp in plan.scale_points:
                    factors[sp.name] = _scale_factor(sp, block)
        out: list[Reading] = []
        for block, (_, failure), plan in zip(blocks, answers, self.plans, strict=True):
            if block is None:
                quality = failure or Quality.TIMEOUT
                out.extend(Reading(device, e.quantity, ts_ms, None, quality) for e in plan.emitted)
                continue
            for quantity, decoder, offset, count, sf_name in plan.emitted:
                sf: int | None = None
                if sf_name is not None:
                    factor = factors.get(sf_name)
                    if not isinstance(factor, int):
                        reason = factor.reason if factor is not None and factor.reason else DecodeReason.DECODE_ERROR
                        decoded = DecodedValue(None, reason, detail=f"scale factor {sf_name} unusable")
                        out.append(tracker.assess(device, quantity, ts_ms, decoded))
                        continue
                    sf = factor
                value = decoder.fast_value(block, offset, count, sf)
                if value is None:
                    out.append(tracker.assess(device, quantity, ts_ms, decoder(block, offset, count, sf)))
                else:
                    out.append(tracker.assess_value(device, quantity, ts_ms, value))
        return out


def _scale_factor(sp: _ScalePoint, block: WordBlock) -> int | DecodedValue:
    fast = sp.decoder.fast_value(block, sp.offset, sp.registers)
    if fast is not None:
        return int(fast)
    full = sp.decoder(block, sp.offset, sp.registers)
    return int(full.value) if isinstance(full.value, float) else full  # a sunssf decodes to a float
