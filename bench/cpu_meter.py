"""CPU seconds of a benchmark's parts (processes with their children) and of the whole machine
(:class:`CpuMeter`), and of one method inside the measured process (:class:`MethodClock`)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import psutil


class CpuMeter:
    """CPU seconds of each part of the bench (its processes and their children) and of the whole
    machine, between two snapshots: what ran beside the gateway, and the rest of the machine
    ("other": other users' work on a shared machine)."""

    def __init__(self, parts: dict[str, list[int]], *, alone: frozenset[str] = frozenset({"gateway"})) -> None:
        self.parts = {name: [psutil.Process(pid) for pid in pids] for name, pids in parts.items()}
        self.alone = alone  # parts counted without their children (the bench's own process)

    def _cpu(self, name: str, procs: list[psutil.Process]) -> float:
        total = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                # the gateway runs in the bench's own process, whose children are the other parts
                children = [] if name in self.alone else proc.children(recursive=True)
                for p in [proc, *children]:
                    with contextlib.suppress(psutil.Error):
                        t = p.cpu_times()
                        total += t.user + t.system
        return total

    def snapshot(self) -> dict[str, float]:
        out = {name: self._cpu(name, procs) for name, procs in self.parts.items()}
        m = psutil.cpu_times()
        out["machine"] = m.user + m.nice + m.system + getattr(m, "irq", 0.0) + getattr(m, "softirq", 0.0)
        return out

    @staticmethod
    def cores(before: dict[str, float], after: dict[str, float], wall_s: float) -> dict[str, float]:
        """Cores used by each part over ``wall_s``; ``other`` is the machine minus the parts."""
        used = {name: (after[name] - before[name]) / wall_s for name in before}
        used["other"] = max(used["machine"] - sum(v for k, v in used.items() if k != "machine"), 0.0)
        return used


class MethodClock:
    """CPU time (this thread's) and wall time of every call of ``cls.name``, wrapped while inside."""

    def __init__(self, cls: type, name: str) -> None:
        self.cls, self.name = cls, name
        self.cpu_s = 0.0
        self.calls = 0
        self.wall_s: list[float] = []
        self._original = getattr(cls, name)

    def __enter__(self) -> MethodClock:
        original, clock = self._original, self

        def timed(obj: object, *args: Any) -> Any:
            w0, t0 = time.perf_counter(), time.thread_time()
            try:
                return original(obj, *args)
            finally:
                clock.cpu_s += time.thread_time() - t0
                clock.wall_s.append(time.perf_counter() - w0)
                clock.calls += 1

        setattr(self.cls, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.cls, self.name, self._original)
