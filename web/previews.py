"""Candidate images sized for the page: one sheet of tiles per video for the list, or one
candidate large for the confirmation, cut to the part of it that the thumbnail will show.

A candidate is up to 1920 pixels wide; a phone's tile needs a quarter of that. The list shows a
video's candidates from one image, its sheet: the tiles side by side, each TILE in size, which the
page crops with CSS. A page of 50 waiting videos then loads 50 images instead of 300 (in Chromium
the same 300 tiles took about five times longer to load as separate images than as 50 sheets).
Each image is made once (JPEG draft decoding reads a candidate at a fraction of its size) and
kept in memory.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from PIL import Image, ImageOps

from web.source import VideoSource

log = logging.getLogger(__name__)

TILE = (480, 270)
LARGE = (1280, 720)
QUALITY = 80
MAX_CACHED_BYTES = 64 * 1024 * 1024


def _fitted(data: bytes, box: tuple[int, int]) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", box)
        image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail(box, Image.Resampling.LANCZOS)
    return image


def _jpeg(image: Image.Image) -> bytes:
    output = io.BytesIO()
    image.save(output, "JPEG", quality=QUALITY, optimize=True)
    return output.getvalue()


Crop = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the picture


def resize_jpeg(data: bytes, box: tuple[int, int], crop: Crop | None = None) -> bytes:
    """The JPEG (or any image Pillow reads), cut to `crop` when given, shrunk to fit `box`, as
    a JPEG."""
    if crop is None:
        return _jpeg(_fitted(data, box))
    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    left, top = round(crop[0] * width), round(crop[1] * height)
    right = max(left + 1, round(crop[2] * width))
    image = image.crop((left, top, right, max(top + 1, round(crop[3] * height))))
    image.thumbnail(box, Image.Resampling.LANCZOS)
    return _jpeg(image)


def sheet_jpeg(originals: Sequence[bytes | None]) -> bytes:
    """The images side by side, each shrunk into its TILE-sized slot (centred); a missing or
    unreadable one leaves its slot dark."""
    width, height = TILE
    sheet = Image.new("RGB", (width * len(originals), height), (17, 24, 39))
    for slot, data in enumerate(originals):
        if data is None:
            continue
        try:
            tile = _fitted(data, TILE)
        except (OSError, Image.DecompressionBombError) as error:
            log.warning("a candidate is not a readable image (%s)", error)
            continue
        sheet.paste(tile, (slot * width + (width - tile.width) // 2, (height - tile.height) // 2))
    return _jpeg(sheet)


class Previews:
    """Sheets and large previews, the least recently used dropped past MAX_CACHED_BYTES."""

    def __init__(self, source: VideoSource, max_bytes: int = MAX_CACHED_BYTES):
        self._source = source
        self._max_bytes = max_bytes
        self._cache: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._size = 0
        self._making: dict[tuple[str, ...], asyncio.Future[bytes | None]] = {}

    async def large(
        self, workflow_id: str, candidate_id: str, crop: Crop | None = None
    ) -> bytes | None:
        """The candidate large, cut to `crop` (the thumbnail's framing) when given."""
        return await self._cached(
            ("large", workflow_id, candidate_id, str(crop)),
            lambda: self._large(workflow_id, candidate_id, crop),
        )

    async def sheet(self, workflow_id: str, candidate_ids: Sequence[str]) -> bytes | None:
        """The tiles of `candidate_ids`, in that order; None when none has an image."""
        return await self._cached(
            ("sheet", workflow_id, *candidate_ids), lambda: self._sheet(workflow_id, candidate_ids)
        )

    async def _cached(
        self, key: tuple[str, ...], make: Callable[[], Awaitable[bytes | None]]
    ) -> bytes | None:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        making = self._making.get(key)
        if making is None:  # else the page and the warm-up asked at once: made once
            making = self._making[key] = asyncio.ensure_future(self._keep(key, make))
            making.add_done_callback(lambda _: self._making.pop(key, None))
        return await asyncio.shield(making)

    async def _keep(
        self, key: tuple[str, ...], make: Callable[[], Awaitable[bytes | None]]
    ) -> bytes | None:
        made = await make()
        if made is None:
            return None
        self._cache[key] = made
        self._size += len(made)
        while self._size > self._max_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._size -= len(dropped)
        return made

    async def _large(self, workflow_id: str, candidate_id: str, crop: Crop | None) -> bytes | None:
        original = await self._source.preview(workflow_id, candidate_id)
        if original is None:
            return None
        try:
            return await asyncio.to_thread(resize_jpeg, original, LARGE, crop)
        except (OSError, Image.DecompressionBombError) as error:
            log.warning(
                "%s: candidate %s is not a readable image (%s)", workflow_id, candidate_id, error
            )
            return None

    async def _sheet(self, workflow_id: str, candidate_ids: Sequence[str]) -> bytes | None:
        originals = await asyncio.gather(
            *(self._source.preview(workflow_id, candidate_id) for candidate_id in candidate_ids)
        )
        if all(original is None for original in originals):
            return None
        return await asyncio.to_thread(sheet_jpeg, originals)
