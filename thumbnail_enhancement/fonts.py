"""The thumbnails' typefaces, shipped by PyPI font packages, and a fallback for missing glyphs.

Every text is drawn in one face: its preferred face when that face has a glyph for each of its
characters, otherwise the first fallback face that has them all (Be Vietnam Pro covers every
Vietnamese letter, Montserrat adds Cyrillic and Greek). Characters no face has (emoji, Chinese,
Thai) are left out of the drawn text rather than shown as tofu boxes; the renderer warns.
"""

from __future__ import annotations

import threading
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


def missing_glyphs(face: Face, text: str) -> frozenset[str]:
    """The characters of `text` that `face` would draw as its .notdef box (invisible format
    characters such as a zero-width joiner are shaped away, control characters are not)."""
    return frozenset(c for c in set(text) if not c.isspace() and not has_glyph(face, c))


def face_for(text: str, preferred: Face) -> Face:
    """`preferred` when it has every glyph of `text` that any face has, else the first fallback
    face that does, else the face that has the most of them."""
    faces = (preferred, *FALLBACK_FACES)
    nowhere = frozenset.intersection(*(missing_glyphs(face, text) for face in faces))
    drawable = "".join(c for c in text if c not in nowhere)
    for face in faces:
        if not missing_glyphs(face, drawable):
            return face
    return min(faces, key=lambda face: len(missing_glyphs(face, drawable)))
