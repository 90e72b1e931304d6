"""A contact sheet of every template for sample matches, so the operator can look before
choosing THUMBNAIL_TEMPLATE (`python main.py preview-templates --out DIR`)."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from errors import PipelineError
from synthetic_frames import Segment, frames_for
from thumbnail_enhancement.fonts import MONTSERRAT_BOLD, MONTSERRAT_EXTRABOLD, TEXT_LOCK, font
from thumbnail_enhancement.layout import CANVAS_HEIGHT, CANVAS_WIDTH, MatchText, theme_for
from thumbnail_enhancement.renderer import Logo, compose, load_logo
from thumbnail_enhancement.templates import TEMPLATES, available_templates
from workspace import atomic_write_bytes

SHEET_FILE = "thumbnail-templates.png"


@cache
def sample_matches() -> tuple[tuple[str, MatchText], ...]:
    """The contact sheet's matches (made when first drawn: a date reads CAFE_TIMEZONE)."""
    return (
        (
            "Short names",
            MatchText.create(
                ["Nho", "Vinh"], ["Khanh", "Leo"], "Cafe Game", "Men's Doubles", "2024-12-25"
            ),
        ),
        (
            "Long Vietnamese names",
            MatchText.create(
                ["Nguyễn Thị Thanh Trâm"],
                ["Phạm Thị Ánh Tuyết"],
                "Friendly Game",
                "Women's Singles",
                "2025-03-08",
            ),
        ),
        (
            "Four players a team",
            MatchText.create(
                ["Nguyễn Đức Huy", "Trâm", "Lê Văn Khánh", "Vy"],
                ["Võ Thị Mỹ Duyên", "Đặng Quốc Bảo", "Leo", "Hoàng Minh Trí"],
                "Tour Sài Gòn Open 2025",
                "Mixed Doubles",
                "2025-06-14",
            ),
        ),
        (
            "40-character tournament",
            MatchText.create(
                ["Khánh", "Vy"],
                ["Ze", "Trâm"],
                "Giải Cầu Lông Cà Phê Mở Rộng Mùa Hè 2024",
                "Mixed Doubles",
                "2024-07-20",
            ),
        ),
    )


_TILE = (CANVAS_WIDTH // 2, CANVAS_HEIGHT // 2)
_MARGIN = 32
_HEADER = 96
_LABEL = 40
_BACKGROUND = (24, 24, 28)
_TEXT = (240, 240, 240)
_MUTED = (160, 160, 168)


class PreviewFolderError(PipelineError):
    pass


def sample_frame() -> np.ndarray:
    """A synthetic rally on the café's court (BGR), as in the demo clips."""
    return next(frames_for([Segment("rally", 1.0)], 1.0, (1920, 1080)))


def contact_sheet(frame: np.ndarray, logo: Logo | None) -> Image.Image:
    """Every template (columns) for every sample match (rows), at half size, labelled."""
    names = available_templates()
    width = _MARGIN + len(names) * (_TILE[0] + _MARGIN)
    height = _HEADER + len(sample_matches()) * (_LABEL + _TILE[1] + _MARGIN)
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    with TEXT_LOCK:
        for column, name in enumerate(names):
            x = _MARGIN + column * (_TILE[0] + _MARGIN)
            draw.text((x, 48), name, font=font(MONTSERRAT_EXTRABOLD, 28), fill=_TEXT, anchor="ls")
            summary = TEMPLATES[name].summary
            draw.text((x, 76), summary, font=font(MONTSERRAT_BOLD, 15), fill=_MUTED, anchor="ls")
    for row, (label, match) in enumerate(sample_matches()):
        y = _HEADER + row * (_LABEL + _TILE[1] + _MARGIN)
        caption = f"{label} · {match.tournament} ({theme_for(match.tournament).name} theme)"
        with TEXT_LOCK:
            draw.text(
                (_MARGIN, y + 28), caption, font=font(MONTSERRAT_BOLD, 18), fill=_TEXT, anchor="ls"
            )
        for column, name in enumerate(names):
            tile = compose(frame, match, TEMPLATES[name], logo).resize(
                _TILE, Image.Resampling.LANCZOS
            )
            sheet.paste(tile, (_MARGIN + column * (_TILE[0] + _MARGIN), y + _LABEL))
    return sheet


def write_contact_sheet(out_dir: Path, logo_path: Path | None) -> Path:
    """Render the contact sheet into `out_dir`/thumbnail-templates.png, with the logo at
    `logo_path` (LOGO_PATH; None: the café's); returns its path."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)  # before the drawing: fail in no time
    except OSError as error:
        raise _unusable(out_dir, error) from None
    buffer = io.BytesIO()
    contact_sheet(sample_frame(), load_logo(logo_path)).save(buffer, "PNG", optimize=True)
    path = out_dir / SHEET_FILE
    try:
        atomic_write_bytes(path, buffer.getvalue(), mode=0o644)  # for anyone to open
    except OSError as error:
        raise _unusable(path, error) from None
    return path


def _unusable(path: Path, error: OSError) -> PreviewFolderError:
    if isinstance(error, FileExistsError | NotADirectoryError):
        problem = "a file is in the way (the contact sheet needs a folder)"
    else:
        problem = f"cannot be written ({error.strerror or type(error).__name__})"
    return PreviewFolderError(
        f"{path}: {problem}; pass --out a folder you can write to (it is created when missing)."
    )
