"""The thumbnails' typefaces, shipped by PyPI font packages, and a fallback for missing glyphs.

Every text is drawn in one face: its preferred face when that face has a glyph for each of its
characters, otherwise the first fallback face that has them all (Be Vietnam Pro covers every
Vietnamese letter, Montserrat adds Cyrillic and Greek), so no character shows as a tofu box.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from PIL import ImageFont

# FreeType faces are not safe to use from two threads at once; the Temporal worker renders
# thumbnails on a thread pool, so measuring and drawing text hold this lock.
TEXT_LOCK = threading.RLock()

_PROBE_SIZE = 40
_SURELY_MISSING = "\U0010fffd"  # a private-use code point: every face draws its .notdef box


@dataclass(frozen=True)
class Face:
    package: str
    file: str
    variation: str | None = None  # a named instance of a variable font

    @property
    def path(self) -> Path:
        return Path(str(resources.files(self.package) / "files" / self.file))

    @property
    def label(self) -> str:
        name = Path(self.file).stem.split("[")[0]
        return f"{name} {self.variation}" if self.variation else name


ANTON = Face("fontpkg_anton", "Anton-Regular.ttf")
MONTSERRAT_EXTRABOLD = Face("fontpkg_montserrat", "Montserrat[wght].ttf", "ExtraBold")
MONTSERRAT_BOLD = Face("fontpkg_montserrat", "Montserrat[wght].ttf", "Bold")
BE_VIETNAM_PRO_EXTRABOLD = Face("fontpkg_be_vietnam_pro", "BeVietnamPro-ExtraBold.ttf")
FALLBACK_FACES = (BE_VIETNAM_PRO_EXTRABOLD, MONTSERRAT_EXTRABOLD)


@cache
def font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    loaded = ImageFont.truetype(str(face.path), max(1, size))
    if face.variation:
        loaded.set_variation_by_name(face.variation)
    return loaded


def _drawn(face: Face, text: str) -> tuple[tuple[int, int], bytes]:
    mask = font(face, _PROBE_SIZE).getmask(text)
    return mask.size, bytes(mask)


@cache
def has_glyph(face: Face, character: str) -> bool:
    """Whether `face` draws `character` as itself rather than as its .notdef box."""
    with TEXT_LOCK:
        return _drawn(face, character) != _drawn(face, _SURELY_MISSING)


def _needs_glyph(character: str) -> bool:
    return not character.isspace() and unicodedata.category(character) not in ("Cf", "Cc")


def covers(face: Face, text: str) -> bool:
    return all(has_glyph(face, c) for c in set(text) if _needs_glyph(c))


def face_for(text: str, preferred: Face) -> Face:
    """`preferred` when it has every glyph of `text`, else the first fallback face that does."""
    for face in (preferred, *FALLBACK_FACES):
        if covers(face, text):
            return face
    return max(
        (preferred, *FALLBACK_FACES),
        key=lambda face: sum(has_glyph(face, c) for c in set(text) if _needs_glyph(c)),
    )
