"""Ranking and framing on the café's own camera: the shared real frames played as a clip.

The frames (`../shared/real-footage/` beside the checkout, or REAL_FOOTAGE_DIR) are one real
doubles game; their README says what each shows. The clip plays them one a second, a keyframe
each, with frame 38 (a stranger's face in front of the lens) and 39 (a player walking past the
camera) moved mid-clip, since `rank` skips the first and last 10%.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

import config
from sample_clips import encode_stills
from thumbnail_enhancement import template_named
from thumbnail_enhancement.framing import BoxTuple, centre_crop
from thumbnail_enhancement.renderer import draw_plan, match_text
from thumbnail_ranking import rank_and_store_top_candidates
from thumbnail_ranking.people import analyse_people, people_image
from thumbnail_ranking.pipeline import IN_FRONT_OF_CAMERA
from thumbnail_selector import load_selection, record_selection
from video_prep import load_metadata, prepare_single_video
from workspace import THUMBNAIL_FILE, workspace_dir

FOOTAGE_VARIABLE = "REAL_FOOTAGE_DIR"
STRANGER, WALKER = 38, 39
PLAY = {7, 11, 14, 26, 32, 33, 37}  # the README's play in progress
ORDER = [*range(19), STRANGER, *range(19, 29), WALKER, *range(29, 38)]  # clip second -> frame

# The near pair of each play frame, labelled by hand on the frames (fractions of the frame):
# the whole body with the racket, from the top of the head to the soles.
NEAR_PAIRS: dict[int, tuple[BoxTuple, BoxTuple]] = {
    7: ((0.445, 0.42, 0.53, 0.79), (0.60, 0.44, 0.74, 0.86)),
    11: ((0.40, 0.42, 0.555, 0.885), (0.615, 0.42, 0.685, 0.74)),
    14: ((0.445, 0.41, 0.595, 0.895), (0.71, 0.455, 0.825, 0.85)),
    26: ((0.435, 0.475, 0.525, 0.86), (0.59, 0.455, 0.75, 0.87)),
    32: ((0.445, 0.45, 0.57, 0.895), (0.61, 0.43, 0.73, 0.83)),
    33: ((0.495, 0.405, 0.63, 0.90), (0.695, 0.435, 0.84, 0.835)),
    37: ((0.26, 0.47, 0.385, 0.825), (0.60, 0.435, 0.705, 0.89)),
}
# The near player at the right edge, where the centre crop cuts him off.
EDGE_PLAYERS: dict[int, BoxTuple] = {
    21: (0.895, 0.36, 0.985, 0.905),
    35: (0.815, 0.365, 0.985, 0.89),
}


def footage_dir() -> Path:
    """REAL_FOOTAGE_DIR, else `shared/real-footage` in the checkout's folder or one above it
    (a worktree's). Set but missing is an error; nowhere at all skips, saying so."""
    configured = os.environ.get(FOOTAGE_VARIABLE)
    if configured:
        folder = Path(configured)
        if not folder.is_dir():
            pytest.fail(f"{FOOTAGE_VARIABLE}={configured} is not a folder of the real frames")
        return folder
    root = Path(__file__).resolve().parent.parent
    for parent in (root, *root.parents):
        folder = parent / "shared" / "real-footage"
        if folder.is_dir():
            return folder
    missing = f"no shared/real-footage beside {root} or above it, and {FOOTAGE_VARIABLE} unset"
    pytest.skip(reason=missing)


def frame_files() -> list[Path]:
    files = sorted(footage_dir().glob("frame_*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
    if len(files) != 40:
        pytest.fail(f"{footage_dir()} holds {len(files)} frames, not the README's 40")
    return files


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return [cv2.imread(str(path)) for path in frame_files()]


@pytest.fixture(scope="module")
def real_clip(frames: list[np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("real-footage")
    return encode_stills(
        folder / "md_NhozVinhvsKhanhzLeo_Cafe Game.mp4", [frames[index] for index in ORDER]
    )


def inside(box: BoxTuple, crop: BoxTuple) -> bool:
    return crop[0] <= box[0] and crop[1] <= box[1] and box[2] <= crop[2] and box[3] <= crop[3]


def kept_share(box: BoxTuple, crop: BoxTuple) -> float:
    """How much of `box` the crop keeps."""
    width = max(0.0, min(box[2], crop[2]) - max(box[0], crop[0]))
    height = max(0.0, min(box[3], crop[3]) - max(box[1], crop[1]))
    return width * height / ((box[2] - box[0]) * (box[3] - box[1]))


@pytest.mark.parametrize("count", [20, 30, 40])
def test_the_stranger_is_never_offered_and_rank_1_is_play_with_the_near_pair_whole(
    env: Path, real_clip: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setenv("CANDIDATE_THUMBNAIL_NUM", str(count))
    config.get_settings.cache_clear()
    video = env / "videos" / real_clip.name
    shutil.copyfile(real_clip, video)
    prepare_single_video(video)

    ranking = rank_and_store_top_candidates(video, 9)

    shown = [ORDER[round(c.timestamp)] for c in ranking.candidates]
    assert STRANGER not in shown, shown
    assert ranking.left_out == {IN_FRONT_OF_CAMERA: 1}
    assert ranking.left_out_text == f"1 frame left out: {IN_FRONT_OF_CAMERA}"
    best = shown[0]
    assert best in PLAY, f"rank 1 is frame {best}, not play in progress: {shown}"

    record_selection(video, ranking.candidates[0].id)
    template = config.get_settings().thumbnail_template
    crop = load_selection(video).crops[template]
    for player in NEAR_PAIRS[best]:
        assert inside(player, crop), f"frame {best}: {player} is not whole in {crop}"
    from thumbnail_enhancement import render_thumbnail

    thumbnail = cv2.imread(str(render_thumbnail(video, template)))
    chosen = cv2.imread(ranking.candidates[0].file)
    plan = template_named(template, "test").plan(
        match_text(load_metadata(video), config.get_settings().cafe_timezone), None
    )
    expected = cv2.cvtColor(np.asarray(draw_plan(chosen, plan, None, crop)), cv2.COLOR_RGB2BGR)
    clear = template_named(template, "test").clear
    region = np.s_[round(clear.y0) : round(clear.y1), round(clear.x0) : round(clear.x1)]
    difference = cv2.absdiff(thumbnail[region], expected[region]).mean()
    assert difference < 6, f"the thumbnail does not show the recorded crop ({difference:.1f})"
    assert (workspace_dir(video) / THUMBNAIL_FILE).is_file()


def test_the_near_player_at_the_right_edge_is_whole_where_the_centre_crop_cuts_him(
    frames: list[np.ndarray],
) -> None:
    found = analyse_people([people_image(frame) for frame in frames], [True] * len(frames))
    height, width = frames[0].shape[:2]
    for name in ("template_a", "template_b"):
        template = template_named(name, "test")
        for index, player in EDGE_PLAYERS.items():
            players = [person.box for person in found[index].people if person.player]
            crop = template.crop(players, (width, height))
            assert inside(player, crop), f"{name}, frame {index}: {player} cut by {crop}"
    centre = centre_crop((width, height), template_named("template_b", "test").photo_size)
    assert all(kept_share(player, centre) < 0.5 for player in EDGE_PLAYERS.values())


def test_the_stranger_and_the_walker_are_told_apart_from_the_players(
    frames: list[np.ndarray],
) -> None:
    found = analyse_people([people_image(frame) for frame in frames], [True] * len(frames))

    assert [index for index, people in enumerate(found) if people.in_front] == [STRANGER]
    assert found[WALKER].blocked and not found[WALKER].in_front
    plays = {index: people.play for index, people in enumerate(found)}
    pauses = (0, 21, WALKER)  # the README's walks between rallies and the walker
    play = np.mean([plays[index] for index in PLAY])
    assert play > np.mean([plays[index] for index in pauses]) + 0.1, plays
    assert min(plays[index] for index in PLAY) > max(plays[21], plays[WALKER]), plays
