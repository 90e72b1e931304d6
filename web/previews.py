"""Candidate images sized for the page: a tile in the list, or large for the confirmation.

A candidate is up to 1920 pixels wide; a phone's tile needs a tenth of that. Each size is made
once (JPEG draft decoding reads the image at a fraction of its size) and kept in memory.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import OrderedDict

from PIL import Image, ImageOps

from web.source import VideoSource

log = logging.getLogger(__name__)

SIZES = {"small": (480, 270), "large": (1280, 720)}
QUALITY = 80
MAX_CACHED_BYTES = 64 * 1024 * 1024


def resize_jpeg(data: bytes, box: tuple[int, int]) -> bytes:
    """The JPEG (or any image Pillow reads) shrunk to fit `box`, as a JPEG."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", box)
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail(box, Image.Resampling.LANCZOS)
        output = io.BytesIO()
        image.save(output, "JPEG", quality=QUALITY, optimize=True)
        return output.getvalue()


class Previews:
    """Resized candidate previews, the least recently used dropped past MAX_CACHED_BYTES."""

    def __init__(self, source: VideoSource, max_bytes: int = MAX_CACHED_BYTES):
        self._source = source
        self._max_bytes = max_bytes
        self._cache: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._size = 0
        self._making: dict[tuple[str, str, str], asyncio.Future[bytes | None]] = {}

    async def get(self, workflow_id: str, candidate_id: str, size: str) -> bytes | None:
        key = (workflow_id, candidate_id, size)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        making = self._making.get(key)
        if making is None:  # else the page and the warm-up asked at once: made once
            making = self._making[key] = asyncio.ensure_future(self._make(key))
            making.add_done_callback(lambda _: self._making.pop(key, None))
        return await asyncio.shield(making)

    async def _make(self, key: tuple[str, str, str]) -> bytes | None:
        workflow_id, candidate_id, size = key
        original = await self._source.preview(workflow_id, candidate_id)
        if original is None:
            return None
        try:
            resized = await asyncio.to_thread(resize_jpeg, original, SIZES[size])
        except (OSError, Image.DecompressionBombError) as error:
            log.warning(
                "%s: candidate %s is not a readable image (%s)", workflow_id, candidate_id, error
            )
            return None
        self._cache[key] = resized
        self._size += len(resized)
        while self._size > self._max_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._size -= len(dropped)
        return resized
