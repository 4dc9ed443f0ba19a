"""``ville-autonome report``: an autonomy report of a scope over a calendar period, to a file —
or, with ``--scheduled``, every monthly report the configuration's schedule says is due.

::

    ville-autonome report --scope district:saint-leu --period 2026-10 --format pdf -o saint-leu.pdf
    ville-autonome report --scope city --period 2026 --format xlsx -o amiens-2026.xlsx --lang en
    ville-autonome report --scope site:iko-hydro --period 2026-10-01..2026-10-15 --format csv --table days -o iko.csv
    ville-autonome report --scheduled [--watch]

Progress goes to stderr (one line per step; reading is counted per device, which is what takes
time for a year), then the file written; nothing else. A bad scope or period, a period that has
not begun, or a report without any data (unless ``--allow-empty``) is one ``error:`` line and exit
code 2, and no file. So is a PDF or XLSX without the ``reports`` extra installed (the line names
the ``pip install`` to run; CSV needs nothing more than the core install).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument
from ville_autonome.extras import MissingExtraError
from ville_autonome.reports.labels import LANGS
from ville_autonome.reports.options import FORMATS, TABLES

EXIT_BAD_REQUEST = 2


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="autonomy report of a scope over a period (PDF, CSV, XLSX), or the scheduled monthly reports",
        description="Autonomy report of a city, district or site over a Europe/Paris calendar period.",
    )
    p.add_argument("--scope", help="city | district:<id> | site:<id>")
    p.add_argument(
        "--period", help="2026-10-05 (day) | 2026-10 (month) | 2026-Q4 | 2026 | 2026-10-01..2026-10-15 (range)"
    )
    p.add_argument("--format", choices=FORMATS, default="pdf", dest="fmt", help="output format (default: pdf)")
    p.add_argument("-o", "--output", help="file to write")
    p.add_argument("--lang", choices=LANGS, default="fr", help="language of the PDF and labels (default: fr)")
    p.add_argument("--table", choices=TABLES, default="intervals", help="CSV only: per-interval or per-day table")
    p.add_argument("--interval", type=int, choices=(15, 30), help="interval in minutes (default: the configuration's)")
    p.add_argument(
        "--allow-empty", action="store_true", help="write the report even when the store holds no data for it"
    )
    p.add_argument(
        "--scheduled", action="store_true", help="make every monthly report of services.reports that is due, then exit"
    )
    p.add_argument("--watch", action="store_true", help="with --scheduled: keep running, check every check_every_s")
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


def _store_name(config: Any) -> str:
    s = config.services.store
    return f"sqlite:{s.path}" if s.backend == "sqlite" else f"influxdb:{s.url} database {s.database}"


def run(args: argparse.Namespace) -> int:
    if args.scheduled:
        return run_scheduled(args)
    missing = [name for name in ("scope", "period", "output") if getattr(args, name) is None]
    if missing:
        print(f"error: report needs --{', --'.join(missing)} (or --scheduled)", file=sys.stderr)
        return EXIT_BAD_REQUEST
    from datetime import UTC, datetime

    from ville_autonome.reports.compute import ReportError, build_report, check_period, has_data
    from ville_autonome.reports.formats import check_engines, render
    from ville_autonome.reports.schema import table_schema
    from ville_autonome.reports.tables import DAY_COLUMNS, INTERVAL_COLUMNS
    from ville_autonome.storage.factory import open_store

    err = sys.stderr
    now = datetime.now(UTC)
    try:
        check_engines(args.fmt)
        period = check_period(args.period, now)
    except (ReportError, MissingExtraError) as exc:
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
            now=now,
            progress=progress,
            extras=args.fmt == "pdf",
        )
        if not has_data(data) and not args.allow_empty:
            print(
                f"error: no data for {args.scope} over {period.label} in the store {_store_name(config)} "
                "(coverage 0 %): is it the store the platform writes to? (--allow-empty writes the report anyway)",
                file=err,
            )
            return EXIT_BAD_REQUEST
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
    if args.fmt == "csv":
        schema = out.with_name(out.name + ".schema.json")
        columns = INTERVAL_COLUMNS if args.table == "intervals" else DAY_COLUMNS
        schema.write_text(
            json.dumps(table_schema(args.table, columns), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        progress(f"wrote {schema} (Table Schema)", 1, 1)
    if not data.result.coverage.complete:
        print(
            f"warning: data coverage {data.result.coverage.ratio:.1%} is below the threshold "
            f"{data.result.coverage.threshold:.0%} or a figure is flagged: the report says so",
            file=err,
        )
    return 0


def run_scheduled(args: argparse.Namespace) -> int:
    from ville_autonome.reports.formats import check_engines
    from ville_autonome.reports.scheduled import run_due, watch
    from ville_autonome.storage.factory import open_store

    config = config_file.load(args.config)
    try:
        for fmt in config.services.reports.formats:
            check_engines(fmt)
    except MissingExtraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    store = open_store(config.services.store)
    try:
        if args.watch:
            watch(store, config, out=sys.stderr)
        else:
            run_due(store, config, out=sys.stderr)
    except KeyboardInterrupt:
        return 130
    finally:
        store.close()
    return 0
