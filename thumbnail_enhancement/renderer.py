"""Enhance: the chosen frame becomes the café's branded 1280x720 thumbnail.

`render_thumbnail(video, template)` reads the workspace's `selected.jpg`, `selection.json` and
`metadata.json` and writes `thumbnail.jpg`: a JPEG of at most 2 MB (YouTube's limit; the quality
steps down until it fits). The photo panel shows the part of the frame that the chooser showed:
the crop the ranking chose for this template from where the players are (recorded with the
selection); framed again from the recorded players for a template the ranking did not know;
the centre crop for a choice made before players were found. The same frame, crop, words, logo
and template always give the same bytes, and a thumbnail already made from them is kept as it
is: the JPEG's comment records what it was made from.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import asdict, dataclass
from datetime import tzinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, UnidentifiedImageError

from errors import PipelineError, Remedy
from prepare.metadata import MatchMetadata, load_metadata
from thumbnail_enhancement.fonts import TEXT_LOCK, font
from thumbnail_enhancement.framing import BoxTuple
from thumbnail_enhancement.layout import (
    CANVAS_HEIGHT,
    CANVAS_WIDTH,
    RGBA,
    Box,
    MatchText,
    Panel,
    Plan,
)
from thumbnail_enhancement.templates import Template, template_named
from workspace import SELECTED_IMAGE, THUMBNAIL_FILE, atomic_write_bytes, workspace_dir

log = logging.getLogger(__name__)

JPEG_MAX_BYTES = 2_000_000  # YouTube refuses thumbnails over 2 MB
JPEG_QUALITIES = (95, 92, 88, 84, 80, 75, 70, 65, 60, 55, 50, 45, 40, 35, 30, 25, 20)
# Part of every thumbnail's record: bump it when the drawing changes, so thumbnails made by an
# older design are rendered again rather than kept.
RENDER_VERSION = 3
STAMP_PREFIX = "cafe-badminton-thumbnail"
DEFAULT_LOGO = Path(str(resources.files("thumbnail_enhancement") / "assets" / "cafe_logo.png"))
_SUPERSAMPLE = 4  # rounded shapes are drawn this much larger, then reduced: smooth edges
_SHADOW_BLUR = 8


@dataclass(frozen=True)
class RenderOptions:
    """What the settings decide about a thumbnail; its caller builds them from the settings."""

    logo_path: Path | None  # LOGO_PATH; None: the café logo shipped with the tool
    cafe_timezone: tzinfo  # CAFE_TIMEZONE: the caption's date is the café's day


class NoSelectionError(PipelineError):
    pass


class SelectedImageError(PipelineError):
    pass


@dataclass(frozen=True)
class Logo:
    data: bytes  # the image file's bytes
    digest: str

    @property
    def size(self) -> tuple[int, int]:
        return _decoded_logo(self.data).size

    def scaled(self, size: tuple[int, int]) -> Image.Image:
        return _scaled_logo(self.data, size)


def match_text(metadata: MatchMetadata, zone: tzinfo) -> MatchText:
    """The words of the thumbnail; its date is the day in `zone` (the café's)."""
    return MatchText.create(
        metadata.team1,
        metadata.team2,
        metadata.tournament,
        metadata.match_type_name,
        metadata.recorded_at,
        zone,
    )


# ------------------------------------------------------------------------------------ inputs


def _read_selected(video_path: Path, workspace: Path) -> bytes:
    path = workspace / SELECTED_IMAGE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NoSelectionError(
            f"{video_path.name}: no thumbnail chosen yet ({path} is missing)", Remedy.SELECT
        ) from None
    except OSError as error:
        raise _unreadable(path, error.strerror or str(error)) from None


def _unreadable(path: Path, problem: str) -> SelectedImageError:
    return SelectedImageError(
        f"{path}: the chosen frame cannot be read ({problem}); delete it and selection.json "
        "beside it, then choose again",
        Remedy.SELECT,
    )


def _reduction(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The largest JPEG decoding reduction (1, 2, 4, 8) still giving the target's pixels."""
    width, height = size
    scale = min(width / target[0], height / target[1])
    return max(f for f in (1, 2, 4, 8) if f == 1 or scale / f >= 1)


_REDUCED_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def decode_frame(data: bytes, path: Path, target: tuple[int, int]) -> np.ndarray:
    """The chosen frame as BGR, decoded no larger than needed for `target` (width, height)."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            size = probe.size
    except (UnidentifiedImageError, OSError):
        raise _unreadable(path, "not a JPEG or PNG image") from None
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED_FLAGS[_reduction(size, target)])
    if frame is None:
        raise _unreadable(path, "the image data is damaged")
    return frame


def load_logo(configured: Path | None = None) -> Logo | None:
    """The image at `configured` (LOGO_PATH), or the café logo shipped with the tool when it is
    None. A missing or unreadable logo is logged once and the thumbnail is drawn without one."""
    path = configured or DEFAULT_LOGO
    try:
        data = path.read_bytes()
        _decoded_logo(data)
        return Logo(data, hashlib.sha256(data).hexdigest())
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        problem = "missing" if isinstance(error, FileNotFoundError) else "unreadable"
        log.warning(
            "logo %s is %s (%s): drawing the thumbnail without a logo; fix LOGO_PATH, or unset "
            "it for the café logo",
            path,
            problem,
            type(error).__name__,
        )
        return None


@lru_cache(maxsize=4)
def _decoded_logo(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA")


@lru_cache(maxsize=16)
def _scaled_logo(data: bytes, size: tuple[int, int]) -> Image.Image:
    return _decoded_logo(data).resize(size, Image.Resampling.LANCZOS)


# ------------------------------------------------------------------------------------- frame


def crop_to_shape(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """The largest centred part of `frame` with the shape width:height (never a stretch)."""
    frame_h, frame_w = frame.shape[:2]
    if frame_w * height > frame_h * width:  # wider than wanted: cut the sides
        crop_w = max(1, round(frame_h * width / height))
        left = (frame_w - crop_w) // 2
        return frame[:, left : left + crop_w]
    crop_h = max(1, round(frame_w * height / width))
    top = (frame_h - crop_h) // 2
    return frame[top : top + crop_h]


@lru_cache(maxsize=1)
def _lift_table() -> np.ndarray:
    """Shadows lifted a little, then a gentle S-curve (midtone contrast x1.2): café footage is
    often dim and flat."""
    lifted = np.linspace(0.0, 1.0, 256) ** 0.9
    curve = lifted - 0.2 * np.sin(2 * np.pi * lifted) / (2 * np.pi)
    return np.clip(np.round(curve * 255), 0, 255).astype(np.uint8)


@lru_cache(maxsize=8)
def _vignette_mask(width: int, height: int, strength: float) -> np.ndarray:
    y, x = np.ogrid[-1 : 1 : height * 1j, -1 : 1 : width * 1j]
    distance = np.sqrt(x**2 + y**2) / np.sqrt(2)
    falloff = np.clip((distance - 0.35) / 0.65, 0, 1) ** 2
    gain = 1.0 - strength * falloff
    mask = np.round(gain * 255).astype(np.uint8)
    return cv2.merge([mask, mask, mask])


def cut_out(frame: np.ndarray, crop: BoxTuple) -> np.ndarray:
    """The part of `frame` that `crop` (fractions of the frame) names, at least a pixel."""
    frame_h, frame_w = frame.shape[:2]
    left = min(frame_w - 1, max(0, round(crop[0] * frame_w)))
    top = min(frame_h - 1, max(0, round(crop[1] * frame_h)))
    right = max(left + 1, min(frame_w, round(crop[2] * frame_w)))
    bottom = max(top + 1, min(frame_h, round(crop[3] * frame_h)))
    return frame[top:bottom, left:right]


def prepare_frame(
    frame: np.ndarray, box: Box, vignette: float, crop: BoxTuple | None = None
) -> np.ndarray:
    """The frame's `crop` (None: centred), cut to the box's exact shape, sized to it,
    colour-lifted and vignetted; RGB."""
    width, height = round(box.width), round(box.height)
    part = frame if crop is None else cut_out(frame, crop)
    cropped = crop_to_shape(part, width, height)
    shrinking = cropped.shape[1] >= width
    resized = cv2.resize(
        cropped,
        (width, height),
        interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC,
    )
    lifted = cv2.LUT(resized, _lift_table())
    grey = cv2.cvtColor(cv2.cvtColor(lifted, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    saturated = cv2.addWeighted(lifted, 1.15, grey, -0.15, 0)
    if vignette:
        saturated = cv2.multiply(saturated, _vignette_mask(width, height, vignette), scale=1 / 255)
    return cv2.cvtColor(saturated, cv2.COLOR_BGR2RGB)


# ----------------------------------------------------------------------------------- drawing


@lru_cache(maxsize=64)
def _rounded_mask(width: int, height: int, radius: float) -> Image.Image:
    big = Image.new("L", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, big.width - 1, big.height - 1), radius=radius * _SUPERSAMPLE, fill=255
    )
    return big.resize((width, height), Image.Resampling.BOX)


@lru_cache(maxsize=32)
def _fill(width: int, height: int, start: RGBA, end: RGBA | None, direction: str) -> Image.Image:
    if end is None:
        return Image.new("RGBA", (width, height), start)
    steps = height if direction == "down" else width
    ramp = np.linspace(np.array(start, float), np.array(end, float), steps)
    ramp = np.round(ramp).astype(np.uint8)
    if direction == "down":
        pixels = np.broadcast_to(ramp[:, None, :], (height, width, 4))
    else:
        pixels = np.broadcast_to(ramp[None, :, :], (height, width, 4))
    return Image.fromarray(np.ascontiguousarray(pixels), "RGBA")


@lru_cache(maxsize=16)
def _shadow(width: int, height: int, radius: float) -> Image.Image:
    """A soft black shadow of a rounded box, `_SHADOW_BLUR` * 2 larger on every side."""
    margin = 2 * _SHADOW_BLUR
    mask = Image.new("L", (width + 2 * margin, height + 2 * margin), 0)
    mask.paste(_rounded_mask(width, height, radius), (margin, margin))
    mask = mask.filter(ImageFilter.GaussianBlur(_SHADOW_BLUR)).point(lambda v: v * 120 // 255)
    shadow = Image.new("RGBA", mask.size, (0, 0, 0, 255))
    shadow.putalpha(mask)
    return shadow


def _composite_clipped(canvas: Image.Image, layer: Image.Image, x: int, y: int) -> None:
    """`layer` over `canvas` at (x, y), the parts outside the canvas left out."""
    left, top = max(0, -x), max(0, -y)
    right = min(layer.width, canvas.width - x)
    bottom = min(layer.height, canvas.height - y)
    if right > left and bottom > top:
        canvas.alpha_composite(layer, (x + left, y + top), (left, top, right, bottom))


def _draw_panel(canvas: Image.Image, panel: Panel) -> None:
    box = panel.box
    x, y = round(box.x0), round(box.y0)
    width, height = round(box.x1) - x, round(box.y1) - y
    if panel.shadow:
        margin = 2 * _SHADOW_BLUR
        shadow = _shadow(width, height, panel.radius)
        _composite_clipped(canvas, shadow, x - margin, y - margin + _SHADOW_BLUR // 2)
    layer = _fill(width, height, panel.fill, panel.fill_to, panel.direction)
    if panel.radius:
        layer = layer.copy()
        layer.putalpha(
            ImageChops.multiply(layer.getchannel("A"), _rounded_mask(width, height, panel.radius))
        )
    _composite_clipped(canvas, layer, x, y)


def compose(
    frame: np.ndarray, match: MatchText, template: Template, logo: Logo | None
) -> Image.Image:
    """The thumbnail of `match` on `frame` (BGR) drawn by `template`, as an RGB image."""
    return draw_plan(frame, _plan_for(match, template, logo), logo)


def _plan_for(match: MatchText, template: Template, logo: Logo | None) -> Plan:
    return template.plan(match, logo.size if logo else None)


def draw_plan(
    frame: np.ndarray, plan: Plan, logo: Logo | None, crop: BoxTuple | None = None
) -> Image.Image:
    """`plan` drawn over `frame` (BGR) showing its `crop` (None: centred), as an RGB image."""
    canvas = Image.new("RGBA", (CANVAS_WIDTH, CANVAS_HEIGHT), (0, 0, 0, 255))
    picture = prepare_frame(frame, plan.frame, plan.vignette, crop)
    canvas.paste(Image.fromarray(picture, "RGB"), (round(plan.frame.x0), round(plan.frame.y0)))
    for panel in plan.panels:
        _draw_panel(canvas, panel)
    draw = ImageDraw.Draw(canvas)
    with TEXT_LOCK:
        for block in plan.texts:
            typeface = font(block.face, block.size)
            for line in block.lines:
                draw.text(line.origin, line.text, font=typeface, fill=block.colour, anchor="ls")
    if logo and plan.logo:
        size = (round(plan.logo.width), round(plan.logo.height))
        canvas.alpha_composite(logo.scaled(size), (round(plan.logo.x0), round(plan.logo.y0)))
    return canvas.convert("RGB")


def _listed(runs: tuple[str, ...]) -> str:
    """`"🏸", "王小明"`; code points for what would not show, `U+0007`."""
    return ", ".join(
        f'"{run}"' if run.isprintable() else " ".join(f"U+{ord(c):04X}" for c in run)
        for run in runs
    )


def _jpeg(image: Image.Image, quality: int, comment: str) -> bytes:
    buffer = io.BytesIO()
    image.save(
        buffer,
        "JPEG",
        quality=quality,
        subsampling="4:4:4" if quality >= 80 else "4:2:0",  # crisp coloured text edges
        comment=comment.encode("utf-8"),
    )
    return buffer.getvalue()


def encode_jpeg(image: Image.Image, comment: str) -> tuple[bytes, int]:
    """JPEG bytes of at most JPEG_MAX_BYTES at the best quality that fits, and that quality."""
    for quality in JPEG_QUALITIES[:-1]:
        data = _jpeg(image, quality, comment)
        if len(data) <= JPEG_MAX_BYTES:
            return data, quality
    return _jpeg(image, JPEG_QUALITIES[-1], comment), JPEG_QUALITIES[-1]


# ------------------------------------------------------------------------------------- stage


def _stamp(
    template: Template,
    frame: bytes,
    crop: BoxTuple | None,
    match: MatchText,
    logo: Logo | None,
) -> str:
    made_from = {
        "version": RENDER_VERSION,
        "template": template.name,
        "frame": hashlib.sha256(frame).hexdigest(),
        "crop": crop,
        "match": asdict(match),
        "logo": logo.digest if logo else None,
    }
    digest = hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()
    return f"{STAMP_PREFIX} {template.name} {digest}"


def _existing_stamp(path: Path) -> str | None:
    try:
        with Image.open(path) as existing:
            comment = existing.info.get("comment", b"")
    except (OSError, UnidentifiedImageError):
        return None
    return comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)


@dataclass(frozen=True)
class ChosenFraming:
    """Where the players of the chosen frame are and each template's crop of it, as recorded
    with the choice; players None: chosen from candidates ranked before people were found."""

    players: list[BoxTuple] | None
    crops: dict[str, BoxTuple]


def chosen_crop(framing: ChosenFraming | None, template: Template, frame: bytes) -> BoxTuple | None:
    """The crop of the chosen frame for `template`: as recorded with the selection, else framed
    from its recorded players; None (the centre) for a choice recorded without them."""
    if framing is None or framing.players is None:
        return None
    recorded = framing.crops.get(template.name)
    if recorded is not None:
        return recorded
    with Image.open(io.BytesIO(frame)) as probe:
        size = probe.size
    return template.crop(framing.players, size)


def render_thumbnail(
    video_path: Path,
    template_name: str,
    options: RenderOptions,
    framing: ChosenFraming | None,
    workspace: Path | None = None,
) -> Path:
    """Draw the video's branded thumbnail into its workspace's thumbnail.jpg (`workspace` when
    it is not the video's own, e.g. archived), framed as `framing` says (see `chosen_crop`);
    returns its path.

    A thumbnail made before from the same selected frame, metadata, logo and template is kept.
    """
    video_path = Path(video_path)
    workspace = workspace or workspace_dir(video_path)
    template = template_named(template_name, video_path.name)
    metadata = load_metadata(video_path, workspace)
    data = _read_selected(video_path, workspace)
    logo = load_logo(options.logo_path)
    match = match_text(metadata, options.cafe_timezone)
    target = workspace / THUMBNAIL_FILE
    try:
        crop = chosen_crop(framing, template, data)
    except (UnidentifiedImageError, OSError):
        raise _unreadable(workspace / SELECTED_IMAGE, "not a JPEG or PNG image") from None
    stamp = _stamp(template, data, crop, match, logo)
    if target.is_file() and _existing_stamp(target) == stamp:
        log.info(
            "%s: thumbnail already made from this selection with %s", video_path.name, template.name
        )
        return target
    frame = decode_frame(data, workspace / SELECTED_IMAGE, (CANVAS_WIDTH, CANVAS_HEIGHT))
    plan = _plan_for(match, template, logo)
    if plan.missing:
        log.warning(
            "%s: the thumbnail leaves out %s: no bundled typeface can draw them; to show other "
            "words, set team1, team2 or tournament in the sidecar %s.json and prepare again",
            video_path.name,
            _listed(plan.missing),
            video_path.name,
        )
    image = draw_plan(frame, plan, logo, crop)
    jpeg, quality = encode_jpeg(image, stamp)
    atomic_write_bytes(target, jpeg)
    log.info(
        "%s: thumbnail %s (%s, JPEG quality %d, %d KB)",
        video_path.name,
        target,
        template.name,
        quality,
        len(jpeg) // 1024,
    )
    return target
