"""The import layering, read from the source with ast: a module imports only modules of its own
layer or below; below the stages' faces a package keeps to itself and reads no settings (it takes
options that its caller builds from them); every module of the project has its place."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOT_THE_APPLICATION = {"tests", "bench", "build", "dist", "demo"}

# Lowest first. `name` is that module (or package's __init__), `name.*` what is inside it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundations", ("errors", "formats", "formats.*", "synthetic_frames")),
    ("settings", ("config",)),
    ("workspace", ("workspace",)),
    ("prepare's parts", ("prepare", "prepare.*")),
    (
        "the stages' parts",
        (
            "youtube",
            "youtube.*",
            "thumbnail_ranking.*",
            "thumbnail_enhancement.*",
            "chooser_window",
            "chooser_window.*",
        ),
    ),
    # the titles are drawn in the thumbnails' brand: the enhancement's fonts, themes and logo
    ("parts built on other stages' parts", ("video_branding.*",)),
    (
        "the stages' faces",
        (
            "video_prep",
            "ingest",
            "uploader",
            "channel_watermark",
            "cleanup",
            "thumbnail_selector",
            "thumbnail_ranking",
            "thumbnail_enhancement",
            "video_branding",
            "thumbnail_change",
        ),
    ),
    # what every front end talks to Temporal through, which loads no stage and no workflow
    (
        "the operator API",
        ("temporal.messages", "temporal.change_messages", "temporal.client", "temporal.client.*"),
    ),
    (
        "front ends",
        (
            "temporal",
            "temporal.*",
            "web",
            "web.*",
            "main",
            "main_temporal",
            "operator_cli",
            "operator_cli.*",
            "cli_support",
            "notify",
            "remedies",
            "sample_clips",
        ),
    ),
)
FACES = next(number for number, (name, _) in enumerate(LAYERS) if name == "the stages' faces")
PARTS = range(next(n for n, (name, _) in enumerate(LAYERS) if name == "prepare's parts"), FACES)


def project_modules() -> dict[str, Path]:
    """Every module of the application by its dotted name (a package by its own name)."""
    modules = {}
    for path in REPO.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[0] in NOT_THE_APPLICATION or parts[0].startswith("."):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def layer_of(module: str) -> int | None:
    """The layer of `module`: its own name's, else that of the innermost package it is in."""
    for number, (_, patterns) in enumerate(LAYERS):
        if module in patterns:
            return number
    package = module
    while "." in package:
        package = package.rsplit(".", 1)[0]
        for number, (_, patterns) in enumerate(LAYERS):
            if f"{package}.*" in patterns:
                return number
    return None


def imported(source: str, known: set[str]) -> set[str]:
    """The project's modules `source` imports, wherever in it (also inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                inner = f"{node.module}.{alias.name}"
                found.add(inner if inner in known else node.module)
    return {name for name in found if name.split(".")[0] in {k.split(".")[0] for k in known}}


def problems(module: str, source: str, known: set[str]) -> list[str]:
    """What breaks the layering in `module`'s imports; empty when nothing does."""
    own = layer_of(module)
    assert own is not None, module
    if own == len(LAYERS) - 1:  # a front end may import anything
        return []
    found = []
    for target in sorted(imported(source, known)):
        layer = layer_of(target)
        if layer is None:
            continue  # reported as a module without a layer
        if layer > own:
            found.append(f"{module} imports {target}, which is above it ({LAYERS[layer][0]})")
        elif layer == own < FACES and target.split(".")[0] != module.split(".")[0]:
            found.append(f"{module} imports {target}, another package of {LAYERS[own][0]}")
        if own in PARTS and target == "config":
            found.append(f"{module} reads the settings (config): take options from its caller")
    return found


def test_every_module_has_a_layer() -> None:
    modules = project_modules()
    assert {"video_prep", "prepare.probe", "youtube.api", "thumbnail_ranking.pipeline"} <= set(
        modules
    )
    unplaced = sorted(name for name in modules if layer_of(name) is None)
    assert not unplaced, f"give these a layer in tests/test_layering.py: {unplaced}"


def test_no_module_imports_one_above_it_and_no_part_reads_the_settings() -> None:
    modules = project_modules()
    found = [
        problem
        for name, path in sorted(modules.items())
        for problem in problems(name, path.read_text(encoding="utf-8"), set(modules))
    ]
    assert not found, "\n".join(found)


def test_file_names_and_the_formats_load_no_decoder_and_no_settings() -> None:
    """What the operator's commands need to check a name costs no PyAV, OpenCV or Pillow."""
    script = (
        "import sys\n"
        "import formats.cleaning, formats.folding, formats.publish_at, formats.templates\n"
        "import formats.youtube_fields, prepare.file_names\n"
        "heavy = {'av', 'cv2', 'PIL', 'numpy', 'googleapiclient', 'config'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


@pytest.mark.parametrize(
    ("module", "source", "problem"),
    [
        (
            "youtube.listing",
            "from video_prep import MatchMetadata",
            "youtube.listing imports video_prep, which is above it (the stages' faces)",
        ),
        (
            "thumbnail_enhancement.preview",
            "def frame():\n    from sample_clips import frames_for\n",
            "thumbnail_enhancement.preview imports sample_clips, which is above it (front ends)",
        ),
        (
            "config",
            "from youtube.text import clean_text",
            "config imports youtube.text, which is above it (the stages' parts)",
        ),
        (
            "thumbnail_ranking.pipeline",
            "from config import get_settings",
            "thumbnail_ranking.pipeline reads the settings (config): take options from its caller",
        ),
        (
            "temporal.client",
            "from temporal.workflows import ProcessVideoWorkflow",
            "temporal.client imports temporal.workflows, which is above it (front ends)",
        ),
        (
            "youtube.listing",
            "from thumbnail_enhancement import layout",
            "youtube.listing imports thumbnail_enhancement.layout, another package of the "
            "stages' parts",
        ),
    ],
)
def test_the_check_finds_what_the_code_had_before(module: str, source: str, problem: str) -> None:
    known = set(project_modules()) | {"youtube.text"}
    assert problems(module, source, known) == [problem]
