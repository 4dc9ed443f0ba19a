"""``ville-autonome report``: an autonomy report of a scope over a calendar period, to a file.

::

    ville-autonome report --scope district:saint-leu --period 2026-10 --format pdf -o saint-leu.pdf
    ville-autonome report --scope city --period 2026 --format xlsx -o amiens-2026.xlsx --lang en
    ville-autonome report --scope site:iko-hydro --period 2026-10-01..2026-10-15 --format csv --table days -o iko.csv

Progress goes to stderr (one line per step; reading is counted per device, which is what takes
time for a year). A bad scope or period is one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument
from ville_autonome.reports.labels import LANGS
from ville_autonome.reports.options import FORMATS, TABLES

EXIT_BAD_REQUEST = 2


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="autonomy report of a scope over a period (PDF, CSV, XLSX)",
        description="Autonomy report of a city, district or site over a Europe/Paris calendar period.",
    )
    p.add_argument("--scope", required=True, help="city | district:<id> | site:<id>")
    p.add_argument(
        "--period",
        required=True,
        help="2026-10-05 (day) | 2026-10 (month) | 2026-Q4 | 2026 | 2026-10-01..2026-10-15 (range)",
    )
    p.add_argument("--format", choices=FORMATS, default="pdf", dest="fmt", help="output format (default: pdf)")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument("--lang", choices=LANGS, default="fr", help="language of the PDF and labels (default: fr)")
    p.add_argument("--table", choices=TABLES, default="intervals", help="CSV only: per-interval or per-day table")
    p.add_argument("--interval", type=int, choices=(15, 30), help="interval in minutes (default: the configuration's)")
    add_config_argument(p)
    p.set_defaults(handler=run)


class StepPrinter:
    """Progress lines on stderr: ``report: read devices 3/12 (1.2 s)``; a step's repeats are
    printed at most every ``every_s`` seconds, its last one always."""

    def __init__(self, out: TextIO, every_s: float = 1.0) -> None:
        self.out = out
        self.every_s = every_s
        self.t0 = time.monotonic()
        self.last_print = -1e9
        self.last_step = ""

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if step == self.last_step and done < total and now - self.last_print < self.every_s:
            return
        self.last_print, self.last_step = now, step
        self.out.write(f"report: {step} {done}/{total} ({now - self.t0:.1f} s)\n")
        self.out.flush()


def run(args: argparse.Namespace) -> int:
    from ville_autonome.reports.compute import ReportError, build_report, check_period
    from ville_autonome.reports.formats import render
    from ville_autonome.storage.factory import open_store

    err = sys.stderr
    try:
        period = check_period(args.period)
    except ReportError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_REQUEST
    config = config_file.load(args.config)
    store = open_store(config.services.store)
    progress = StepPrinter(err)
    try:
        data = build_report(
            store,
            config,
            args.scope,
            period,
            interval_s=args.interval * 60 if args.interval else None,
            progress=progress,
        )
        progress(f"render {args.fmt}", 0, 1)
        content = render(data, args.fmt, args.lang, args.table)
    except ReportError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_REQUEST
    finally:
        store.close()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    progress(f"wrote {out} ({len(content)} bytes)", 1, 1)
    if not data.result.coverage.complete:
        print(
            f"warning: data coverage {data.result.coverage.ratio:.1%} is below the threshold "
            f"{data.result.coverage.threshold:.0%}: the report says it is incomplete",
            file=err,
        )
    return 0
