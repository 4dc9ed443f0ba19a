"""The alarm evaluator: ``ville-autonome alerts`` (docs/alerts.md).

One process evaluates the rules of ``alerts:`` against the store and notifies; it is its own
process, not a part of the API or the ingest, so that however many API or ingest processes run,
alarms are evaluated and notified once. A second evaluator started by mistake (or a standby on
purpose) waits: the lease in the alarm log (``alerts.lease``) lets one act at a time.

Threads, each ending promptly at :meth:`AlertService.stop`:

- *evaluate*, every ``evaluation_interval_s``: renew the lease; when leading, read the store,
  evaluate every rule, store what changed, commit the notifications due;
- *quality*, every ``quality_interval_s`` while leading: the autonomy engine's data-quality and
  self-sufficiency facts (slower: kept apart so the fast rules stay within seconds);
- *deliver*, every second while leading: send what the alarm log holds, retry, dead-letter.

Exceptions::

    configuration.errors.StartupError
    └── ServiceUnreachableError            the store is unreachable at start (commands.alerts)
    storage.base.StoreError                inside: the tick is skipped and retried (logged once)
    alerts.channels.DeliveryError          inside: the delivery is retried or dead-lettered
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ville_autonome.alerts.channels import Channel, channels
from ville_autonome.alerts.delivery import deliver_due
from ville_autonome.alerts.evaluator import Evaluator
from ville_autonome.alerts.lease import Lease
from ville_autonome.alerts.observation import QualityFacts
from ville_autonome.alerts.observe import Observer, quality_facts
from ville_autonome.autonomy_queries import EnergyCache
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.journals.alarm_records import AlarmLog
from ville_autonome.storage.base import Store, StoreError

log = logging.getLogger(__name__)
DELIVER_EVERY_S = 1.0
STATS_SERVICE = "alerts"  # the leader's stats in store.service_stats() (and /metrics)
ENERGY_CACHE_TTL_S = 300.0


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def default_holder() -> str:
    """This process's name in the lease: host, pid and a random suffix (a restarted container may reuse the pid)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class AlertStats:
    evaluations: int = 0
    store_errors: int = 0
    leading: bool = False
    leader: str | None = None
    firing: int = 0
    pending: int = 0
    messages: int = 0
    last_ok_ms: int | None = None


class AlertService:
    """``start()`` starts the threads; ``stop()`` ends them, releases the lease and closes the channels."""

    def __init__(
        self,
        config: PlatformConfig,
        store: Store,
        alarm_log: AlarmLog,
        *,
        holder: str | None = None,
        chans: dict[str, Channel] | None = None,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        self.config = config
        self.settings = config.services.alerts
        self.store = store
        self.log = alarm_log
        self.holder = holder or default_holder()
        self._clock = clock
        self.channels = chans if chans is not None else channels(self.settings, config.services.mqtt, "va-alerts")
        interval_ms = int(self.settings.evaluation_interval_s * 1000)
        self.lease = Lease(
            alarm_log, self.holder, ttl_ms=int(self.settings.lease_ttl_s * 1000), settle_ms=2 * interval_ms + 1000,
            clock=clock,
        )  # fmt: skip
        self.evaluator = Evaluator(config, alarm_log, sorted(self.channels))
        self.stats = AlertStats()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._quality: QualityFacts | None = None
        self._quality_lock = threading.Lock()
        self._observer: Observer | None = None
        self._failing = False

    # ------------------------------------------------------------ life cycle

    def start(self) -> None:
        if not self.config.alerts.rules:
            log.warning("alerts: no rule in the configuration's alerts: section: nothing will fire")
        for name, target in (("evaluate", self._evaluate_loop), ("quality", self._quality_loop)):
            t = threading.Thread(target=target, name=f"alerts-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._deliver_loop, name="alerts-deliver", daemon=True)
        t.start()
        self._threads.append(t)
        log.info("alerts evaluator %s started (%d rules, channels: %s)", self.holder, len(self.config.alerts.rules),
                 ", ".join(sorted(self.channels)))  # fmt: skip

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        self._threads = []
        try:
            self.lease.release()
        except StoreError as exc:
            log.warning("alerts: the lease could not be released (a standby takes over when it expires): %s", exc)
        for ch in self.channels.values():
            ch.close()
        self._write_status()
        log.info("alerts evaluator %s stopped", self.holder)

    @property
    def leading(self) -> bool:
        return self.stats.leading

    # ------------------------------------------------------------ threads

    def _evaluate_loop(self) -> None:
        interval = self.settings.evaluation_interval_s
        while not self._stop.is_set():
            started = time.monotonic()
            self._tick()
            self._write_status()
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def _tick(self) -> None:
        try:
            leading = self.lease.tick()
            self.stats.leader = self.lease.leader
            if leading and not self.stats.leading:
                now = self._clock()
                self.evaluator.load(now)
                self._observer = Observer(self.store, now)
                log.info("alerts: %s leads the evaluation", self.holder)
            elif not leading and self.stats.leading:
                log.warning("alerts: %s no longer leads (now %s): standing by", self.holder, self.lease.leader)
            elif not leading and self.stats.evaluations == 0 and not self._failing:
                log.debug("alerts: standing by (leader: %s)", self.lease.leader)
            self.stats.leading = leading
            if leading:
                self._evaluate()
            self._ok()
        except StoreError as exc:
            self._fail(exc)

    def _evaluate(self) -> None:
        assert self._observer is not None
        now = self._clock()
        with self._quality_lock:
            quality = self._quality
        obs = self._observer.observe(now, quality)
        self.evaluator.evaluate(obs)
        self.stats.messages += self.evaluator.notify(self._clock())
        self.stats.evaluations += 1
        counts = self.evaluator.counts()
        self.stats.firing, self.stats.pending = counts["firing"], counts["pending"]
        self.store.write_service_stats(
            STATS_SERVICE,
            {"leading": 1.0, "firing": float(self.stats.firing), "pending": float(self.stats.pending),
             "evaluations": float(self.stats.evaluations), "messages": float(self.stats.messages)},
        )  # fmt: skip

    def _quality_loop(self) -> None:
        cache = EnergyCache(ttl_s=ENERGY_CACHE_TTL_S, max_entries=4096)
        done_at = 0.0
        while not self._stop.wait(0.5):
            if not self.stats.leading or time.monotonic() - done_at < self.settings.quality_interval_s:
                continue
            try:
                facts = quality_facts(self.store, self.config, self._clock(), cache)
            except Exception:  # never stop the thread: the alarms keep their state until the next try
                log.exception("alerts: data-quality facts failed")
                facts = None
            done_at = time.monotonic()
            if facts is not None:
                with self._quality_lock:
                    self._quality = facts

    def _deliver_loop(self) -> None:
        while not self._stop.wait(DELIVER_EVERY_S):
            if not self.stats.leading:
                continue
            try:
                deliver_due(self.log, self.channels, self.settings, self._clock())
            except StoreError as exc:
                log.warning("alerts: deliveries not read or recorded: %s", exc)

    # ------------------------------------------------------------ health

    def _ok(self) -> None:
        if self._failing:
            log.warning("alerts: the store answers again")
        self._failing = False
        self.stats.last_ok_ms = self._clock()

    def _fail(self, exc: StoreError) -> None:
        self.stats.store_errors += 1
        if not self._failing:
            log.error("alerts: the store does not answer, evaluation paused: %s", exc)
        self._failing = True

    def problems(self) -> list[str]:
        """Why the evaluator is unhealthy (empty: healthy, leading or standing by)."""
        last = self.stats.last_ok_ms
        limit_ms = 3 * self.settings.evaluation_interval_s * 1000 + 10_000
        if last is None or self._clock() - last > limit_ms:
            return ["the alarm log (store) has not answered for a while"]
        return []

    def _write_status(self) -> None:
        path = self.settings.status_file
        if not path:
            return
        problems = self.problems() if self._threads else ["stopped"]
        doc = {
            "healthy": not problems,
            "problems": problems,
            "role": "leader" if self.stats.leading else "standby",
            "leader": self.stats.leader,
            "firing": self.stats.firing,
            "evaluations": self.stats.evaluations,
            "updated_ms": self._clock(),
        }
        target = Path(path)
        try:
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text(json.dumps(doc), encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            log.warning("status file %s not written: %s", path, exc)
