"""What a report can be asked for: its file formats and CSV tables (light: the CLI builds its parser from them)."""

from __future__ import annotations

from typing import Literal

Format = Literal["pdf", "csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("pdf", "csv", "xlsx")

Table = Literal["intervals", "days"]
TABLES: tuple[Table, ...] = ("intervals", "days")
