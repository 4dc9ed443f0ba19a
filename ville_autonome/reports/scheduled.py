"""Scheduled monthly reports: made by ``ville-autonome report --scheduled`` (a cron job, a systemd
timer, or ``--watch`` in its own container), stored on disk, listed and served by the API.

Why a command and not the API: several API processes serve the same city (docs/architecture.md,
"Scale"); a schedule inside each of them would make every report once per process. One command
makes them, under an exclusive lock on ``<dir>/.lock`` (a second run started meanwhile says so and
leaves), writes each file under a temporary name and renames it into place (a reader never sees
half a PDF), and skips what is already there — so running it again, or from two machines sharing
the folder, never makes a report twice. The API only lists and reads the folder.

Layout: ``<services.reports.dir>/<YYYY-MM>/autonomy-<scope>-<YYYY-MM>-<lang>.<format>``. Month M is
due from ``day_of_month`` of M+1 at ``hour`` (Europe/Paris), so that late data has arrived; the
last ``catch_up_months`` months are checked each run. A month without any data is skipped (and
tried again next run: a backfill may bring it).
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from ville_autonome.configuration.schedule import ReportSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.reports.compute import ReportError, build_report, has_data
from ville_autonome.reports.formats import render, report_filename
from ville_autonome.reports.periods import PARIS, parse_period
from ville_autonome.storage.base import Store

NAME = re.compile(r"^autonomy-(city|district-[a-z0-9_-]+|site-[a-z0-9_-]+)-(\d{4}-\d{2})-(fr|en)\.(pdf|xlsx|csv)$")
MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class StoredReport:
    month: str  # "2026-11"
    scope: str  # "district:saint-leu"
    lang: str
    fmt: str
    name: str  # the file's name in its month folder
    size: int  # [bytes]
    made_ms: int  # when it was written [UTC ms]


def scopes(config: PlatformConfig, settings: ReportSettings) -> list[str]:
    """The scopes to report on: the configured ones, else the city and every district."""
    return settings.scopes if settings.scopes is not None else ["city", *(f"district:{d.id}" for d in config.districts)]


def due_months(settings: ReportSettings, now: datetime) -> list[str]:
    """The months (``YYYY-MM``) whose report is due at ``now``, oldest first (module docstring)."""
    local = now.astimezone(PARIS)
    y, m = local.year, local.month
    out = []
    for back in range(1, settings.catch_up_months + 1):
        mm = m - back
        year, month = y + (mm - 1) // 12, (mm - 1) % 12 + 1
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        due = datetime(ny, nm, settings.day_of_month, settings.hour, tzinfo=PARIS)
        if due <= local:
            out.append(f"{year:04d}-{month:02d}")
    return sorted(out)


@contextmanager
def _lock(folder: Path) -> Iterator[bool]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write(path: Path, content: bytes) -> None:
    """Write ``content`` under a temporary name, then rename it into place (atomic on POSIX)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def run_due(store: Store, config: PlatformConfig, *, now: datetime | None = None, out: TextIO) -> list[Path]:
    """Make every due report that is not stored yet; return the files written."""
    settings = config.services.reports
    folder = Path(settings.dir)
    at = now or datetime.now(UTC)
    written: list[Path] = []
    with _lock(folder) as mine:
        if not mine:
            out.write(f"report: another run holds {folder / '.lock'}: it makes the reports\n")
            return written
        for month in due_months(settings, at):
            for scope in scopes(config, settings):
                wanted = [
                    (lang, fmt, folder / month / report_filename(scope, month, fmt, lang=lang))
                    for lang in settings.languages
                    for fmt in settings.formats
                ]
                missing = [w for w in wanted if not w[2].exists()]
                if not missing:
                    continue
                try:
                    data = build_report(
                        store, config, scope, parse_period(month), now=at, extras="pdf" in settings.formats
                    )
                except ReportError as exc:
                    out.write(f"report: {month} {scope}: {exc}\n")
                    continue
                if not has_data(data):
                    out.write(f"report: {month} {scope}: no data, skipped\n")
                    continue
                for lang, fmt, path in missing:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _write(path, render(data, fmt, lang))
                    written.append(path)
                    out.write(f"report: wrote {path}\n")
    return written


def watch(store: Store, config: PlatformConfig, *, out: TextIO, stop: threading.Event | None = None) -> None:
    """Run :func:`run_due` every ``check_every_s`` until ``stop`` is set (or Ctrl-C)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        run_due(store, config, out=out)
        stop.wait(config.services.reports.check_every_s)


def listing(folder: Path) -> list[StoredReport]:
    """The stored reports, newest month first (files only whose names follow the layout)."""
    out: list[StoredReport] = []
    if not folder.is_dir():
        return out
    for month_dir in folder.iterdir():
        if not month_dir.is_dir() or not MONTH.match(month_dir.name):
            continue
        for f in month_dir.iterdir():
            m = NAME.match(f.name)
            if m is None or m[2] != month_dir.name or not f.is_file():
                continue
            scope = m[1].replace("-", ":", 1) if m[1] != "city" else "city"
            st = f.stat()
            out.append(StoredReport(m[2], scope, m[3], m[4], f.name, st.st_size, int(st.st_mtime * 1000)))
    return sorted(out, key=lambda r: (r.month, r.scope, r.lang, r.fmt), reverse=True)


def stored_file(folder: Path, month: str, name: str) -> Path | None:
    """The stored report ``name`` of ``month``, found through :func:`listing` (never a path from a request)."""
    for r in listing(folder):
        if r.month == month and r.name == name:
            return folder / r.month / r.name
    return None
