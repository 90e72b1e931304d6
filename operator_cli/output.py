"""Printing what the rendering functions return, on the CLIs' console (cli_support)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.measure import Measurement
from rich.table import Table

from cli_support import console
from operator_cli.lines import Block, Line, TableBlock


def say(line: Line) -> None:
    console.print(line.text, style=line.style or None, highlight=False)


def show(blocks: Iterable[Block]) -> None:
    for block in blocks:
        if isinstance(block, Line):
            say(block)
        else:
            _table(block)


def _table(block: TableBlock) -> None:
    table = Table(*block.headers)
    if block.narrow:  # an id stays whole on its line, to be copied
        for column in table.columns:
            column.no_wrap = True
    for row in block.rows:
        table.add_row(*row)
    wanted = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if block.narrow and wanted > console.width:
        for line in block.narrow:
            say(line)
    else:
        console.print(table)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
