"""CHOICE=auto and changing a published video's thumbnail through its companion workflow, against
a real Temporal dev server and the fake YouTube server."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import pytest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHistory,
)
from temporalio.worker import Replayer

import config
import thumbnail_change
from operator_cli.stats import stats_lines
from temporal import client as temporal_client
from temporal.change_messages import (
    CHANGES_STATUS_QUERY,
    CHANGES_WORKFLOW_TYPE,
    MEMO_CHANGES,
    ChangesInput,
    ChangesMemo,
    ChangesStatus,
    changes_workflow_id,
)
from temporal.changes import CHANGEABLE, ThumbnailChangeWorkflow
from temporal.client.stats import EARLIER_VERSION
from temporal.messages import (
    BY_AUTO,
    BY_PERSON,
    BY_TIMEOUT,
    MEMO_STATS,
    NEEDS_ATTENTION,
    VIDEO_STAGE,
    WAITING_FOR_SELECTION,
    ChoiceStats,
)
from tests.notify_support import endpoint
from tests.stats_support import CANCEL, FAIL, PUBLISH, Run, finish_runs
from tests.temporal_support import (
    activities_of_host,
    add_video,
    history_json,
    result_of,
    running_worker,
    wait_for_stage,
    wait_until,
)
from tests.test_temporal_cli import cli_async
from tests.test_temporal_workflow import HISTORIES, start, typed_handle, unique_name
from workspace import CANDIDATES_DIR, THUMBNAIL_FILE

WEB = "http://cafe-pc.local:8080/"
CHANGES_HISTORIES = HISTORIES / "changes"


async def record(client: Client, workflow_id: str, path: Path) -> None:
    """With RECORD_HISTORIES=1, export the workflow's history for the replay tests."""
    if os.environ.get("RECORD_HISTORIES"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(await history_json(client, workflow_id))


async def companion_stage(client: Client, workflow_id: str) -> str | None:
    described = await client.get_workflow_handle(changes_workflow_id(workflow_id)).describe()
    return described.typed_search_attributes.get(VIDEO_STAGE)


async def companion_in(client: Client, workflow_id: str, stage: str) -> None:
    async def there() -> bool:
        try:
            return await companion_stage(client, workflow_id) == stage
        except Exception:  # not started yet
            return False

    await wait_until(there)


async def published_changeable(client: Client, video: Path, host: str | None = None) -> str:
    """Start `video` (CHOICE=auto), wait until it is published and its companion takes
    changes; its workflow id."""
    outcome = await temporal_client.start_video(client, video, config.get_settings(), host=host)
    await result_of(typed_handle(client, outcome.workflow_id))
    await companion_in(client, outcome.workflow_id, CHANGEABLE)
    return outcome.workflow_id


def live_thumbnail(video: Path, fingerprint: str) -> bytes:
    workspace = thumbnail_change.locate_workspace(video, fingerprint)
    return (workspace / THUMBNAIL_FILE).read_bytes()


async def test_an_auto_published_video_is_told_then_changed_twice_once_each(
    temporal_env, pipeline_env, clip_cache, env, youtube
):
    client = temporal_env.client
    with endpoint() as hook:
        pipeline_env(CHOICE="auto", RECHOOSE_DAYS="1", NOTIFY_URLS=hook.url, WEB_PUBLIC_URL=WEB)
        video = add_video(clip_cache, env / "videos", unique_name())
        async with running_worker(client):
            outcome = await start(client, video)
            handle = typed_handle(client, outcome.workflow_id)
            result = await result_of(handle)  # nobody chose: published with rank 1
            status = await temporal_client.get_status(client, outcome.workflow_id)
            ranks = {c.rank: c.id for c in status.candidates}
            assert result.selected_candidate_id == ranks[1]
            memo = await (await handle.describe()).memo()
            assert memo[MEMO_STATS]["chosen_by"] == BY_AUTO and memo[MEMO_STATS]["rank"] == 1
            await companion_in(client, outcome.workflow_id, CHANGEABLE)
            [published] = youtube.videos.values()
            sets_at_upload = len(youtube.calls_named("thumbnails.set"))
            # what the upload spent is counted, by quota day
            assert sum(memo[MEMO_STATS]["quota_units"].values()) == youtube.units_spent() > 0

            offer = await temporal_client.change_offer(client, outcome.workflow_id)
            assert offer.live_candidate_id == ranks[1]
            assert all(c.preview for c in offer.choice.candidates)  # from the video's workflow
            for rank in (2, 3):
                done = await temporal_client.change_thumbnail(
                    client, outcome.workflow_id, status.video_path, ranks[rank]
                )
                assert (done.rank, done.number, done.target) == (rank, rank - 1, "youtube")
            # the activity of change 2 run again (its answer lost in a crash): not set again
            again = thumbnail_change.change_thumbnail(
                Path(status.video_path), "", 2, ranks[3], config.get_settings().thumbnail_template
            )
            assert again.already_done and again.change.rank == 3
            changes_record = thumbnail_change.load_changes(
                thumbnail_change.locate_workspace(Path(status.video_path), "")
            )
            # a second tap on the live one, and an unknown candidate: refused, nothing recorded
            for refused in (ranks[3], "cand_99"):
                with pytest.raises(temporal_client.ChoiceRejectedError):
                    await temporal_client.change_thumbnail(
                        client, outcome.workflow_id, status.video_path, refused
                    )
            companion = client.get_workflow_handle(changes_workflow_id(outcome.workflow_id))
            changes_memo = await (await companion.describe()).memo()
            await record(client, outcome.workflow_id, HISTORIES / "v4-i20-auto_published.json")
            await record(client, companion.id, CHANGES_HISTORIES / "v1-changed_twice.json")
            await companion.terminate("the test is over")

    assert len(youtube.calls_named("thumbnails.set")) == sets_at_upload + 2
    live = live_thumbnail(Path(status.video_path), "")
    assert published.thumbnail_sha256 == hashlib.sha256(live).hexdigest()
    assert [change.rank for change in changes_record.done] == [2, 3]
    assert changes_memo[MEMO_CHANGES]["live_rank"] == 3
    assert changes_memo[MEMO_CHANGES]["changes_made"] == 2
    assert sum(changes_memo[MEMO_CHANGES]["quota_units"].values()) == 100
    [told] = hook.of_type("success")
    assert told["title"].startswith("Published: ")
    assert "Change its thumbnail until " in told["message"]
    assert f"at {WEB} or with `./cafe select {video.name}`" in told["message"]
    assert not hook.of_type("info")  # nobody was asked to choose


async def test_a_change_past_its_window_is_refused_in_one_line_and_the_sources_go(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    pipeline_env(CHOICE="auto", RECHOOSE_DAYS="0.0001")  # 8.6 s
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        outcome = await start(client, video)
        handle = typed_handle(client, outcome.workflow_id)
        await result_of(handle)
        status = await temporal_client.get_status(client, outcome.workflow_id)
        companion = client.get_workflow_handle(changes_workflow_id(outcome.workflow_id))
        await companion.result()  # the window closed
        await record(client, companion.id, CHANGES_HISTORIES / "v1-window_closed.json")
        with pytest.raises(temporal_client.NotChangeableError) as refused:
            await temporal_client.change_thumbnail(
                client, outcome.workflow_id, status.video_path, status.candidates[1].id
            )
        with pytest.raises(temporal_client.NotChangeableError):
            await temporal_client.change_offer(client, outcome.workflow_id)
        address = client.service_client.config.target_host
        late = await cli_async("select", video.name, "--pick", "2", address=address)
    assert late.returncode == 1
    [line] = (late.stdout + late.stderr).strip().splitlines()
    assert "its window for changing the thumbnail closed at " in line
    assert "its window for changing the thumbnail closed at " in str(refused.value)
    assert "\n" not in str(refused.value)
    workspace = thumbnail_change.locate_workspace(Path(status.video_path), "")
    assert not (workspace / CANDIDATES_DIR).exists()  # only a change needed them
    assert (workspace / THUMBNAIL_FILE).is_file()
    published = list((env / "published").iterdir())
    assert len(published) == 1 and (published[0] / THUMBNAIL_FILE).is_file()


async def test_select_changes_a_published_video_once_and_refuses_the_live_one(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    pipeline_env(CHOICE="auto", RECHOOSE_DAYS="1")
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = await published_changeable(client, video)
        changed = await cli_async("select", video.name, "--pick", "2", address=address)
        again = await cli_async("select", video.name, "--pick", "2", address=address)
        shown = await cli_async("status", video.name, address=address)
        await client.get_workflow_handle(changes_workflow_id(workflow_id)).terminate()
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert (
        f"thumbnail: rank 2 live, changed 1x; `./cafe select {video.name}` changes it until "
    ) in shown.stdout
    assert f"{video.name} is published with rank 1; choose another to change it" in changed.stdout
    assert f"Rank 2 is now the thumbnail of {video.name} in the publish folder" in changed.stdout
    assert again.returncode == 1
    assert "is already the live thumbnail of" in again.stdout + again.stderr
    [folder] = (env / "published").iterdir()
    assert (folder / THUMBNAIL_FILE).read_bytes() == live_thumbnail(video.resolve(), "")


async def test_a_change_while_the_videos_host_is_down_waits_and_says_so(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    pipeline_env(CHOICE="auto", RECHOOSE_DAYS="1")
    laptop = f"laptop-{uuid.uuid4().hex[:6]}"
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        async with activities_of_host(client, laptop):
            workflow_id = await published_changeable(client, video, laptop)
        status = await temporal_client.get_status(client, workflow_id)
        second = status.candidates[1].id
        with pytest.raises(temporal_client.ChangeWaitingError) as waiting:
            await temporal_client.change_thumbnail(
                client, workflow_id, status.video_path, second, wait_seconds=3
            )
        async with activities_of_host(client, laptop):  # the laptop is back: the change is made
            companion = client.get_workflow_handle(changes_workflow_id(workflow_id))

            async def made() -> bool:
                memo = await (await companion.describe()).memo()
                return memo[MEMO_CHANGES]["changes_made"] == 1

            await wait_until(made)
        await companion.terminate("the test is over")
    assert f"the change to {second} is taken and waits for {laptop}" in str(waiting.value)
    [folder] = (env / "published").iterdir()
    assert (folder / THUMBNAIL_FILE).read_bytes() == live_thumbnail(video.resolve(), "")


async def test_a_companion_changed_again_and_again_continues_as_new_and_goes_on(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    pipeline_env(CHOICE="auto", RECHOOSE_DAYS="1")
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = await published_changeable(client, video)
        companion = client.get_workflow_handle(changes_workflow_id(workflow_id))
        first_run = (await companion.describe()).run_id
        started = (await companion.describe()).raw_description.workflow_execution_info
        # the same companion, but continuing as new after every change
        state = await companion.query(CHANGES_STATUS_QUERY, result_type=ChangesStatus)
        await companion.terminate("restarted with a small history bound")
        await client.start_workflow(
            CHANGES_WORKFLOW_TYPE,
            ChangesInput(
                workflow_id,
                state.video_path,
                "",
                state.host,
                config.get_settings().thumbnail_template,
                state.candidates,
                state.live_candidate_id,
                state.closes_at,
                max_changes_per_run=1,
            ),
            id=companion.id,
            task_queue=started.task_queue,
        )
        ranks = {c.rank: c.id for c in state.candidates}
        made = []
        for rank in (2, 3, 1):
            made.append(
                await temporal_client.change_thumbnail(
                    client, workflow_id, state.video_path, ranks[rank]
                )
            )
        described = await client.get_workflow_handle(companion.id).describe()
        history = await client.get_workflow_handle(companion.id).fetch_history()
        await client.get_workflow_handle(companion.id).terminate("the test is over")
    assert [(done.number, done.rank) for done in made] == [(1, 2), (2, 3), (3, 1)]
    assert described.run_id != first_run
    assert len(history.events) < 40  # the latest run holds one change, not three
    changes = thumbnail_change.load_changes(thumbnail_change.locate_workspace(video.resolve(), ""))
    assert [change.number for change in changes.done] == [1, 2, 3]


async def test_youtube_refusing_a_new_thumbnail_holds_the_change_not_the_video(
    temporal_env, pipeline_env, clip_cache, env, youtube
):
    client = temporal_env.client
    with endpoint() as hook:
        pipeline_env(RECHOOSE_DAYS="1", ATTENTION_RETRY_INTERVAL="1h", NOTIFY_URLS=hook.url)
        video = add_video(clip_cache, env / "videos", unique_name())
        async with running_worker(client):
            outcome = await start(client, video)
            handle = typed_handle(client, outcome.workflow_id)
            status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
            await temporal_client.choose(client, outcome.workflow_id, status.video_path, None)
            await result_of(handle)
            await companion_in(client, outcome.workflow_id, CHANGEABLE)
            [published] = youtube.videos.values()
            before = published.thumbnail_sha256
            youtube.fail("thumbnails.set", 403, "forbidden", "not verified", times=None)
            with pytest.raises(temporal_client.ChangeWaitingError) as waiting:
                await temporal_client.change_thumbnail(
                    client,
                    outcome.workflow_id,
                    status.video_path,
                    status.candidates[1].id,
                    wait_seconds=5,
                )
            await companion_in(client, outcome.workflow_id, NEEDS_ATTENTION)
            described = await handle.describe()
            await record(client, handle.id, HISTORIES / "v4-i20-chosen_then_published.json")
            companion = client.get_workflow_handle(changes_workflow_id(outcome.workflow_id))
            refused_sha = published.thumbnail_sha256
            # the channel is verified: `retry` makes the held change go through now
            youtube.stop_failing("thumbnails.set")
            address = client.service_client.config.target_host
            retried = await cli_async("retry", video.name, address=address)

            async def made() -> bool:
                memo = await (await companion.describe()).memo()
                return memo[MEMO_CHANGES]["changes_made"] == 1

            await wait_until(made)

            async def told_once() -> bool:
                return bool(hook.of_type("warning"))

            await wait_until(told_once)
            held_retried = CHANGES_HISTORIES / "v1-refused_held_then_retried.json"
            await record(client, companion.id, held_retried)
            await companion.terminate("the test is over")
        assert described.status == WorkflowExecutionStatus.COMPLETED
        assert "held (NEEDS_ATTENTION): " in str(waiting.value)
        assert "YouTube refused the new thumbnail" in str(waiting.value)
        assert refused_sha == before  # the video kept its thumbnail while the change was held
        assert retried.returncode == 0, retried.stdout + retried.stderr
        live = live_thumbnail(video.resolve(), "")
        assert published.thumbnail_sha256 == hashlib.sha256(live).hexdigest() != before
    [told] = hook.of_type("warning")
    assert told["title"].startswith("Needs attention: ")
    assert "YouTube refused the new thumbnail" in told["message"]


def test_choice_and_rechoose_days_are_checked_when_the_settings_load(env, monkeypatch):
    monkeypatch.setenv("CHOICE", "later")
    monkeypatch.setenv("RECHOOSE_DAYS", "a week")
    config.get_settings.cache_clear()
    with pytest.raises(config.ConfigError) as error:
        config.get_settings()
    assert "CHOICE" in str(error.value) and "RECHOOSE_DAYS" in str(error.value)


async def test_recorded_companion_histories_still_replay():
    histories = sorted(CHANGES_HISTORIES.glob("*.json"))
    assert histories, "tests/histories/changes/ holds histories exported from real runs"
    replayer = Replayer(workflows=[ThumbnailChangeWorkflow])
    for path in histories:
        await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))


def person(rank: int, ranked_at: str, chosen_at: str, **more) -> ChoiceStats:
    return ChoiceStats(BY_PERSON, rank, ranked_at, chosen_at, **more)


async def test_stats_count_a_known_set_of_runs(own_temporal_env):
    client = own_temporal_env.client
    t = "2026-12-07T10:00:00+00:00"
    published = {"published_at": "2026-12-07T11:00:00+00:00", "file_time": t}
    runs = [
        # a person took rank 1 after 10, 20 and 30 min, rank 2 after 40 min; one changed later
        Run(PUBLISH, person(1, t, "2026-12-07T10:10:00+00:00", **published)),
        Run(PUBLISH, person(1, t, "2026-12-07T10:20:00+00:00", **published)),
        Run(
            PUBLISH,
            person(1, t, "2026-12-07T10:30:00+00:00", **published, quota_units={"2026-12-07": 150}),
            ChangesMemo("c3", 3, 1, "2026-12-14T11:00:00+00:00", {"2026-12-07": 50}),
        ),
        Run(PUBLISH, person(2, t, "2026-12-07T10:40:00+00:00", **published)),
        Run(PUBLISH, ChoiceStats(BY_AUTO, 1, t, t, quota_units={"2026-12-08": 100}, **published)),
        Run(FAIL, ChoiceStats(failure_type="VideoUnreadableError")),
        Run(FAIL, ChoiceStats(failure_type="VideoUnreadableError")),
        Run(CANCEL, ChoiceStats()),
        Run(PUBLISH, None),  # an earlier version's
        Run(FAIL, None),
    ]
    await finish_runs(client, runs)
    stats = await temporal_client.video_stats(client, 7)

    assert (stats.started, stats.published, stats.failed, stats.cancelled) == (10, 6, 3, 1)
    assert stats.failed_by_reason == {"VideoUnreadableError": 2, EARLIER_VERSION: 1}
    assert stats.chosen_by == {BY_PERSON: 4, BY_AUTO: 1}
    assert stats.person_rank_shares == {1: 0.75, 2: 0.25}
    assert stats.changed_after_publishing == 1 and stats.changed_share == 1 / 5
    assert stats.ranked_to_chosen.median_seconds == 25 * 60
    assert stats.ranked_to_chosen.p90_seconds == 40 * 60
    assert stats.file_to_published.median_seconds == 3600 and stats.file_to_published.count == 5
    assert stats.quota_units_by_day == {"2026-12-07": 200, "2026-12-08": 100}
    assert stats.uncounted == 2
    lines = [line.text for line in stats_lines(stats)]
    assert "  a person's 4 choices: rank 1 75%, rank 2 25%" in lines
    assert "  changed after publishing: 1 (20% of the published)" in lines
    assert "Ranked to chosen by a person: median 25 min, 90% within 40 min (4 videos)" in lines
    assert "  2026-12-07: 200" in lines
    address = client.service_client.config.target_host
    shown = await cli_async("stats", "--days", "7", "--json", address=address)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    figures = json.loads(shown.stdout)
    assert (figures["published"], figures["person_rank_shares"]) == (6, {"1": 0.75, "2": 0.25})
    assert figures["file_to_published"]["median_seconds"] == 3600
    printed = await cli_async("stats", address=address)
    assert "The last 7 days: 10 videos started" in printed.stdout
    assert "2 videos ran on an earlier version" in printed.stdout


async def test_a_failed_video_keeps_why_for_the_stats(temporal_env, pipeline_env, env):
    client = temporal_env.client
    video = env / "videos" / unique_name()
    video.write_text("this is not a video")
    async with running_worker(client):
        handle = typed_handle(client, (await start(client, video)).workflow_id)
        with pytest.raises(WorkflowFailureError):
            await result_of(handle)
        memo = await (await handle.describe()).memo()
        await record(client, handle.id, HISTORIES / "v4-i20-failed_counted.json")
    assert memo[MEMO_STATS]["failure_type"] == "NotAVideoError"
    assert memo[MEMO_STATS]["chosen_by"] == ""  # it never got to a choice


async def test_auto_with_a_selection_timeout_waits_for_it_then_publishes_rank_1(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    # the timeout's action is fail, but CHOICE=auto publishes
    pipeline_env(CHOICE="auto", SELECTION_TIMEOUT="2s", SELECTION_TIMEOUT_ACTION="fail")
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        outcome = await start(client, video)
        handle = typed_handle(client, outcome.workflow_id)
        status = await wait_for_stage(handle, WAITING_FOR_SELECTION)
        result = await result_of(handle)
        memo = await (await handle.describe()).memo()
        await client.get_workflow_handle(changes_workflow_id(outcome.workflow_id)).terminate()
    assert result.selected_candidate_id == status.candidates[0].id
    assert memo[MEMO_STATS]["chosen_by"] == BY_TIMEOUT and memo[MEMO_STATS]["rank"] == 1
