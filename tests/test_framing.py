"""Framing: the part of a frame a template's photo panel shows, from the players' boxes."""

from __future__ import annotations

import pytest

from thumbnail_enhancement import TEMPLATES
from thumbnail_enhancement.framing import MAX_UPSCALE, BoxTuple, centre_crop, frame_crop

FRAME = (1920, 1080)
PANEL = (896.0, 720.0)  # template_b's photo panel


def inside(box: BoxTuple, crop: BoxTuple) -> bool:
    return crop[0] <= box[0] and crop[1] <= box[1] and box[2] <= crop[2] and box[3] <= crop[3]


def shape(crop: BoxTuple, frame: tuple[int, int] = FRAME) -> float:
    return (crop[2] - crop[0]) * frame[0] / ((crop[3] - crop[1]) * frame[1])


def test_players_at_the_right_edge_are_whole_where_the_centre_crop_cuts_them() -> None:
    near = [(0.82, 0.37, 0.98, 0.88), (0.33, 0.42, 0.42, 0.86)]  # too far apart for 1.24:1

    crop = frame_crop(near, FRAME, PANEL)

    assert inside(near[0], crop), crop  # the nearest (tallest) one
    assert not inside(near[0], centre_crop(FRAME, PANEL))
    assert shape(crop) == pytest.approx(PANEL[0] / PANEL[1], rel=0.01)


def test_the_near_pair_is_whole_with_room_and_the_crop_zooms_in_no_more_than_allowed() -> None:
    near = [(0.45, 0.42, 0.59, 0.89), (0.72, 0.46, 0.82, 0.84)]
    far = [(0.32, 0.49, 0.38, 0.66), (0.2, 0.51, 0.25, 0.67)]

    crop = frame_crop([*near, *far], FRAME, PANEL)

    for player in (*near, *far):  # all four fit
        assert inside(player, crop), (player, crop)
    above, below = 0.42 - crop[1], crop[3] - 0.89
    assert crop[3] == 1.0 or above <= below, "the spare room goes below, not to the ceiling"
    assert above > 0, "room above the heads"
    width_px = (crop[2] - crop[0]) * FRAME[0]
    assert PANEL[0] / width_px <= MAX_UPSCALE + 1e-3


def test_a_lone_small_player_is_zoomed_in_on_up_to_the_upscale_limit() -> None:
    crop = frame_crop([(0.5, 0.5, 0.52, 0.56)], FRAME, PANEL)

    width_px = (crop[2] - crop[0]) * FRAME[0]
    assert PANEL[0] / width_px == pytest.approx(MAX_UPSCALE, rel=0.01)
    assert inside((0.5, 0.5, 0.52, 0.56), crop)


def test_a_source_smaller_than_the_panel_is_not_zoomed_in_on() -> None:
    crop = frame_crop([(0.5, 0.5, 0.52, 0.56)], (640, 360), PANEL)

    centre = centre_crop((640, 360), PANEL)
    assert crop[2] - crop[0] == pytest.approx(centre[2] - centre[0], abs=1e-3)
    assert crop[3] - crop[1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("players", "frame"),
    [([], FRAME), ([(0.2, 0.5, 0.3, 0.9)], (1080, 1920))],
    ids=["no players", "portrait footage"],
)
def test_no_players_or_portrait_footage_get_the_centre_crop(
    players: list[BoxTuple], frame: tuple[int, int]
) -> None:
    assert frame_crop(players, frame, PANEL) == centre_crop(frame, PANEL)


def test_every_template_frames_the_players_into_its_clear_part_when_they_fit() -> None:
    players = [(0.45, 0.45, 0.52, 0.62), (0.56, 0.46, 0.62, 0.61)]  # small, mid-frame

    for template in TEMPLATES.values():
        crop = template.crop(players, FRAME)
        clear = template.clear_fractions
        shown = (
            crop[0] + clear[0] * (crop[2] - crop[0]),
            crop[1] + clear[1] * (crop[3] - crop[1]),
            crop[0] + clear[2] * (crop[2] - crop[0]),
            crop[1] + clear[3] * (crop[3] - crop[1]),
        )
        for player in players:
            assert inside(player, shown), (template.name, player, shown)
