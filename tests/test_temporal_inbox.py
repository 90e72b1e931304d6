"""Files that did not start reach the person wherever they look: the host's watcher keeps them
in its inbox workflow, and `pending`, `status <file>` and the web chooser (any machine that
reaches Temporal) list them with what to do; a refused file is notified once, a copy in
progress reads as waiting, and a file fixed or removed leaves the list. A real dev server, real
clips, the watcher's own scans."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

import config
from temporal import client as temporal_client
from temporal.inbox import HostInboxWorkflow
from temporal.messages import (
    FILE_REFUSED,
    FILE_WAITING,
    INBOX_QUERY,
    INBOX_SIGNAL,
    INBOX_WORKFLOW_TYPE,
    InboxFile,
    InboxInput,
    inbox_id,
)
from temporal.watcher import FolderWatcher
from tests.notify_support import endpoint
from tests.temporal_support import add_video, recording, running_worker, wait_until
from tests.test_temporal_cli import cli_async
from tests.test_temporal_ingest import settled_long_ago
from tests.test_temporal_workflow import unique_name

HOST = "inbox-pc"
HISTORIES = Path(__file__).parent / "histories" / "inbox"


async def record_inbox_history(client, name: str) -> None:
    """With RECORD_HISTORIES=1, export the inbox's history for the replay test."""
    if os.environ.get("RECORD_HISTORIES"):
        HISTORIES.mkdir(parents=True, exist_ok=True)
        handle = client.get_workflow_handle(inbox_id(os.environ["TEMPORAL_TASK_QUEUE"], HOST))
        path = HISTORIES / f"v1-21-{name}.json"
        path.write_text((await handle.fetch_history()).to_json())


async def host_files(client) -> dict[str, tuple[str, str]]:
    files = await temporal_client.inbox_files(client)
    return {file.file: (file.kind, file.problem) for file in files if file.host == HOST}


def told(hook):
    async def condition() -> bool:
        return len(hook.received) >= 1

    return condition


async def test_files_that_did_not_start_are_listed_notified_once_and_leave_when_fixed(
    env, pipeline_env, clip_cache, temporal_env
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    videos = env / "videos"
    misnamed = settled_long_ago(add_video(clip_cache, videos, "match1.mp4"))
    cut_off = videos / unique_name("md_BrokenzFilevsCuongzDat")
    cut_off.write_bytes(recording(clip_cache)[:50_000])
    settled_long_ago(cut_off)
    original = settled_long_ago(
        add_video(clip_cache, videos, unique_name("md_NhozVinhvsKhanhzLeo"))
    )
    second_copy = videos / f"{original.stem}x.mp4"  # sorted after it: seen second
    shutil.copy2(original, second_copy)
    copying = add_video(clip_cache, videos, unique_name("xd_KhanhzVyvsZezTram"))  # changed just now
    with endpoint() as hook:
        pipeline_env(INGEST_SETTLE="600", NOTIFY_URLS=hook.url, WORKER_NAME=HOST)
        watcher = FolderWatcher(client, config.get_settings())
        async with running_worker(client):
            await watcher.scan_once()
            await wait_until(told(hook))
            files = await host_files(client)
            assert files[misnamed.name][0] == FILE_REFUSED
            assert "rename it as {type}_{team1}vs{team2}" in files[misnamed.name][1]
            assert files[cut_off.name] == (FILE_REFUSED, files[cut_off.name][1])
            assert "copy it again" in files[cut_off.name][1]
            assert files[second_copy.name][0] == FILE_REFUSED
            assert f"the same recording as {original.name}" in files[second_copy.name][1]
            assert files[second_copy.name][1].endswith("this copy is not needed, remove it")
            assert files[copying.name][0] == FILE_WAITING
            assert files[copying.name][1].startswith("still being copied")
            assert original.name not in files

            pending = await cli_async("pending", address=address)
            assert pending.returncode == 0, pending.stderr
            refused_heading = pending.stdout.index("Not started, a person must fix the file")
            waiting_heading = pending.stdout.index("Waiting for the copy to end")
            assert refused_heading < pending.stdout.index(misnamed.name) < waiting_heading
            assert waiting_heading < pending.stdout.index(copying.name)
            status = await cli_async("status", misnamed.name, address=address)
            assert status.returncode == 0, status.stdout + status.stderr
            assert f"{misnamed.name}: not started (host {HOST})" in status.stdout
            assert "rename it as" in status.stdout

            await watcher.scan_once()  # nothing changed: no second message
            os.remove(misnamed)  # fixed the way a person would: gone from INPUT_DIR
            os.remove(second_copy)
            await watcher.scan_once()
            files = await host_files(client)
            assert misnamed.name not in files and second_copy.name not in files
            assert cut_off.name in files and copying.name in files
            await record_inbox_history(client, "listed_then_fixed")

        warnings = hook.of_type("warning")
        assert len(warnings) == 1 and warnings[0]["title"] == "3 files were not started"
        for name in (misnamed.name, cut_off.name, second_copy.name):
            assert name in warnings[0]["message"]
        assert copying.name not in warnings[0]["message"]  # a copy going on is no problem


async def test_the_inbox_continues_as_new_with_the_latest_list(pipeline_env, temporal_env):
    client = temporal_env.client
    queue = os.environ["TEMPORAL_TASK_QUEUE"]
    lists = [[InboxFile(f"match{n}.mp4", HOST, FILE_REFUSED, f"problem {n}")] for n in range(5)]
    async with running_worker(client):
        handle = await client.start_workflow(
            INBOX_WORKFLOW_TYPE,
            InboxInput([], max_updates=2),
            id=inbox_id(queue, HOST),
            task_queue=queue,
        )
        for files in lists:
            await handle.signal(INBOX_SIGNAL, files)
        first_run = handle.result_run_id

        async def latest_list_kept_in_a_new_run() -> bool:
            latest = client.get_workflow_handle(handle.id)
            described = await latest.describe()
            shown = await latest.query(INBOX_QUERY, result_type=list[InboxFile])
            return described.run_id != first_run and shown == lists[-1]

        await wait_until(latest_list_kept_in_a_new_run)


async def test_recorded_inbox_histories_still_replay():
    histories = sorted(HISTORIES.glob("*.json"))
    assert histories, "tests/histories/inbox/ holds histories exported from real runs"
    replayer = Replayer(workflows=[HostInboxWorkflow])
    for path in histories:
        await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
