"""`.env.example` lists every setting with its default, so a new setting cannot be forgotten, and
the file, copied to `.env` with every line uncommented, configures the tool as its defaults do."""

from __future__ import annotations

import re
from pathlib import Path

import config

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
# a value with spaces is quoted, as a .env needs it
SETTING_LINE = re.compile(r'^# (?P<name>[A-Z][A-Z0-9_]*)=(?P<value>"[^"]*"|\S*)')


def listed(quoted: bool = False) -> dict[str, str]:
    found = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := SETTING_LINE.match(line):
            found[match["name"]] = match["value"] if quoted else match["value"].strip('"')
    return found


def test_every_setting_is_listed_with_its_default():
    defaults = config.setting_defaults()
    example = listed()
    assert {name: example.get(name) for name in defaults} == defaults
    unknown = [name for name in example if name not in defaults]
    assert all(name.startswith("TEMPORAL_") for name in unknown), unknown  # Temporal's own


def test_the_example_uncommented_loads_as_the_defaults(tmp_path):
    env_file = tmp_path / ".env"
    lines = [f"{name}={value}" for name, value in listed(quoted=True).items()]
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert config.load_settings({}, env_file) == config.load_settings({}, tmp_path / "none")
