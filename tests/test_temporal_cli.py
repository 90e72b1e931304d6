"""The operator CLI (main_temporal.py) as a person runs it: a real process, real server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
import yaml
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

import config
from temporal import client as temporal_client
from temporal.client import DEFAULT_ADDRESS, workflow_id_for
from temporal.dev_server import server_command, split_address
from tests.temporal_support import add_video, result_of, running_worker, wait_for_stage
from tests.test_temporal_workflow import start, typed_handle, unique_name
from web.temporal_source import TemporalVideoSource

ROOT = Path(__file__).resolve().parent.parent


async def cli_async(*args: str, address: str) -> subprocess.CompletedProcess:
    """Run the CLI without blocking this test's event loop, which runs the worker."""
    return await asyncio.to_thread(cli, *args, address=address)


def cli(*args: str, address: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main_temporal.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "COLUMNS": "250"},
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def cli_process(*args: str, address: str, ready: str) -> Iterator[subprocess.Popen]:
    """A long-running CLI command (server, worker), once it printed `ready`; stopped with
    SIGTERM, as a service manager stops it. Its output goes to a file: a pipe nobody reads
    would fill up and block it."""
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main_temporal.py"), *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TEMPORAL_ADDRESS": address},
        )
        try:
            # the dev server's own banner may come first
            wait_until(lambda: ready in printed(output) or process.poll() is not None)
            assert ready in printed(output), printed(output)
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not so after {timeout} s"
        time.sleep(0.5)


def stage_of(workflow_id: str, address: str) -> str:
    return json.loads(cli("status", workflow_id, "--json", address=address).stdout)["stage"]


def printed(output: IO[str]) -> str:
    output.seek(0)
    return output.read()


def test_a_waiting_video_survives_a_restart_of_server_and_worker(env, pipeline_env, clip_cache):
    pipeline_env(TEMPORAL_UI_PORT=str(free_port()))
    address = f"localhost:{free_port()}"
    video = add_video(clip_cache, env / "videos", unique_name())
    workflow_id = workflow_id_for(video.resolve())
    with (
        cli_process("server", address=address, ready="Temporal at"),
        cli_process("worker", address=address, ready=" polling "),
    ):
        assert cli("start", address=address).returncode == 0
        wait_until(lambda: workflow_id in cli("pending", address=address).stdout)

    with (
        cli_process("server", address=address, ready="Temporal at"),
        cli_process("worker", address=address, ready=" polling "),
    ):
        assert workflow_id in cli("pending", address=address).stdout
        chosen = cli("select", workflow_id, "--pick", "1", address=address)
        assert chosen.returncode == 0 and "Rank 1 chosen" in chosen.stdout, (
            chosen.stdout + chosen.stderr
        )
        wait_until(lambda: stage_of(workflow_id, address) == "COMPLETED")
    assert (env / "completed" / video.name).is_file()


def test_docker_compose_matches_the_embedded_server(env):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["temporal"]
    command = service["command"]
    embedded = server_command(config.get_settings(), DEFAULT_ADDRESS)

    def values_of(option: str, words: list[str]) -> list[str]:
        return [words[at + 1] for at, word in enumerate(words) if word == option]

    attributes = values_of("--search-attribute", command)
    assert attributes == values_of("--search-attribute", embedded)
    assert attributes == ["VideoStage=Keyword", "VideoFile=Keyword", "VideoFingerprint=Keyword"]
    limits = values_of("--dynamic-config-value", command)
    assert limits == values_of("--dynamic-config-value", embedded)
    assert "limit.blobSize.error=65536" in limits
    grpc_port = split_address(DEFAULT_ADDRESS)[1]
    ui_port = config.get_settings().temporal_ui_port
    assert f"{grpc_port}:{grpc_port}" in service["ports"]
    assert f"{ui_port}:{ui_port}" in service["ports"]
    assert command[command.index("--port") + 1] == str(grpc_port)
    assert command[command.index("--ui-port") + 1] == str(ui_port)
    assert service["volumes"][0].endswith(":/data") and "/data/" in " ".join(command)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_server_serves_and_stops_cleanly_with_its_dev_server(env, stop_signal):
    port = free_port()
    address = f"localhost:{port}"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main_temporal.py"), "server"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "TEMPORAL_UI_PORT": str(free_port())},
    )
    try:
        banner = process.stdout.readline()
        assert f"Temporal at {address}" in banner
        assert cli("pending", address=address).stdout.strip() == (
            "No video is waiting for a thumbnail choice."
        )
    finally:
        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Temporal server stopped." in output and "Traceback" not in output
    assert (env / "temporal-data" / "temporal.db").is_file()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass  # the dev server went with it


def dev_servers_on(database: Path) -> list[int]:
    """The processes running a dev server on `database` (from /proc: Linux)."""
    running = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:  # it ended meanwhile
            continue
        if str(database).encode() in words and any(w.endswith(b"temporal") for w in words):
            running.append(int(cmdline.parent.name))
    return running


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's (prctl)"
)
def test_a_killed_server_takes_its_dev_server_with_it(env):
    address = f"localhost:{free_port()}"

    def serve() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main_temporal.py"), "server"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TEMPORAL_ADDRESS": address, "TEMPORAL_UI_PORT": str(free_port())},
        )
        assert f"Temporal at {address}" in process.stdout.readline()
        return process

    killed = serve()
    database = env / "temporal-data" / "temporal.db"
    assert dev_servers_on(database)
    killed.kill()  # SIGKILL: no handler runs, no cleanup
    killed.wait()

    wait_until(lambda: not dev_servers_on(database), timeout=30)
    again = serve()  # the next `server` starts: nothing was left holding the port or database
    again.send_signal(signal.SIGTERM)
    assert again.wait(timeout=30) == 0


async def test_start_with_an_invalid_youtube_token_starts_nothing(
    temporal_env, pipeline_env, clip_cache, env
):
    pipeline_env(UPLOAD_TARGET="youtube", YOUTUBE_TOKEN_FILE=str(env / "missing-token.json"))
    video = add_video(clip_cache, env / "videos", unique_name())
    address = temporal_env.client.service_client.config.target_host

    result = await cli_async("start", address=address)

    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert "auth" in result.stdout and "Nothing was started." in result.stdout
    handle = temporal_env.client.get_workflow_handle(workflow_id_for(video.resolve()))
    with pytest.raises(RPCError) as never_started:
        await handle.describe()
    assert never_started.value.status == RPCStatusCode.NOT_FOUND


def test_start_with_an_unknown_template_starts_nothing(env, clip_cache, monkeypatch):
    add_video(clip_cache, env / "videos", unique_name())
    monkeypatch.setenv("THUMBNAIL_TEMPLATE", "fancy")

    result = cli("start", address=f"localhost:{free_port()}")  # no server: refused before

    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert "fancy" in result.stdout and "template_a" in result.stdout


def test_unreachable_server_is_one_clear_line(env):
    result = cli("pending", address=f"localhost:{free_port()}")
    assert result.returncode == 2
    assert "Cannot reach Temporal" in result.stdout and "Traceback" not in result.stderr


async def test_pending_select_and_status_from_the_command_line(
    own_temporal_env, pipeline_env, clip_cache, env
):
    client = own_temporal_env.client  # pending numbers every waiting video: only this one
    address = client.service_client.config.target_host
    # scheduled: status says when it goes public; no window for changes (tests/
    # test_thumbnail_change.py changes published videos)
    pipeline_env(PUBLISH_AT="23:59", RECHOOSE_DAYS="0")
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        status = await wait_for_stage(
            client.get_workflow_handle(workflow_id), "WAITING_FOR_SELECTION"
        )

        listed = await cli_async("pending", address=address)
        host = config.get_settings().worker_name
        assert f"1. {video.name} | host: {host} | waiting 0m | {workflow_id}" in listed.stdout
        as_json = json.loads((await cli_async("pending", "--json", address=address)).stdout)
        assert {
            "number": 1,
            "workflow_id": workflow_id,
            "video": video.name,
            "host": host,
        }.items() <= next(row for row in as_json if row["workflow_id"] == workflow_id).items()

        unknown = await cli_async("select", "video-does-not-exist", "--pick", "1", address=address)
        assert unknown.returncode == 1
        assert "No video matches 'video-does-not-exist'" in unknown.stdout

        too_far = await cli_async("select", workflow_id, "--pick", "9", address=address)
        assert too_far.returncode == 1 and "no candidate has rank 9" in too_far.stdout
        assert "Traceback" not in too_far.stdout + too_far.stderr

        chosen = await cli_async("select", workflow_id, "--pick", "2", address=address)
        assert chosen.returncode == 0, chosen.stdout + chosen.stderr
        assert f"Rank 2 chosen for {video.name}: rendering and publishing" in chosen.stdout

        again = await cli_async("select", workflow_id, "--pick", "1", address=address)
        assert again.returncode == 1 and (  # still on its way, or already done
            "not waiting for a selection" in again.stdout
            or "its thumbnail cannot be changed: it was published without a window" in again.stdout
        )

        result = await result_of(typed_handle(client, workflow_id))
        assert result.selected_candidate_id == status.candidates[1].id

        detail = json.loads(
            (await cli_async("status", workflow_id, "--json", address=address)).stdout
        )
        assert (detail["execution_status"], detail["stage"]) == ("COMPLETED", "COMPLETED")
        assert detail["status"]["selected_candidate_id"] == result.selected_candidate_id
        public_at = detail["status"]["published"]["publish_at"]
        assert public_at and public_at[11:16] == "23:59"
        shown = (await cli_async("status", workflow_id, address=address)).stdout
        assert f"goes public at: {public_at}" in shown
        table = (await cli_async("status", address=address)).stdout
        assert video.name[:20] in table and "COMPLETED" in table


async def test_select_status_and_cancel_say_what_is_wrong_in_one_line(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        await wait_for_stage(client.get_workflow_handle(workflow_id), "WAITING_FOR_SELECTION")

    no_worker = await cli_async("select", workflow_id, "--pick", "1", address=address)
    assert no_worker.returncode == 0 and "is recorded, and applied when its worker" in (
        no_worker.stdout
    )  # kept for when a worker runs (issue 22)
    waiting = await cli_async("status", workflow_id, address=address)
    assert "RUNNING" in waiting.stdout and "WAITING_FOR_SELECTION" in waiting.stdout
    assert "no worker answered" in waiting.stdout

    cancelled = await cli_async("cancel", workflow_id, address=address)
    assert cancelled.returncode == 0 and "Cancellation requested" in cancelled.stdout
    async with running_worker(client):
        with pytest.raises(WorkflowFailureError):
            await result_of(typed_handle(client, workflow_id))

    for args, doing in (
        (("select", workflow_id, "--pick", "1"), "nothing to choose"),
        (("cancel", workflow_id), "nothing to cancel"),
    ):
        ended = await cli_async(*args, address=address)
        assert ended.returncode == 1, ended.stdout + ended.stderr
        assert f"has already ended (canceled): {doing}" in ended.stdout
        assert "--retry-failed" in ended.stdout and "Traceback" not in ended.stderr
    detail = json.loads((await cli_async("status", workflow_id, "--json", address=address)).stdout)
    assert (detail["execution_status"], detail["stage"]) == ("CANCELED", "CANCELED")
    assert detail["last_stage"] == "WAITING_FOR_SELECTION"  # where it stopped, for tools
    shown = (await cli_async("status", workflow_id, address=address)).stdout
    assert "stage: CANCELED" in shown and "WAITING_FOR_SELECTION" not in shown
    table = (await cli_async("status", address=address)).stdout
    row = next(line for line in table.splitlines() if workflow_id in line)
    assert "CANCELED" in row and "WAITING_FOR_SELECTION" not in row
    for output in (no_worker, cancelled, ended):
        assert "Traceback" not in output.stdout + output.stderr


@workflow.defn(name="ProcessVideoWorkflow")
class DriftedWorkflow:
    """A changed workflow not behind `workflow.patched`: it cannot replay the running videos."""

    @workflow.run
    async def run(self, request: dict) -> None:
        await workflow.sleep(3600)


async def test_status_and_select_say_when_the_workflow_cannot_answer(
    temporal_env, pipeline_env, clip_cache, env
):
    client = temporal_env.client
    address = client.service_client.config.target_host
    video = add_video(clip_cache, env / "videos", unique_name())
    async with running_worker(client):
        workflow_id = (await start(client, video)).workflow_id
        await wait_for_stage(client.get_workflow_handle(workflow_id), "WAITING_FOR_SELECTION")
    drifted = Worker(  # an upgrade that broke replay
        client,
        task_queue=config.get_settings().temporal_task_queue,
        workflows=[DriftedWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with drifted:
        shown = await cli_async("status", workflow_id, address=address)
        chosen = await cli_async("select", workflow_id, "--pick", "1", address=address)
        listed = await TemporalVideoSource(client, config.get_settings()).waiting()
    await temporal_client.cancel(client, workflow_id)

    for output in (shown, chosen):
        assert "Traceback" not in output.stdout + output.stderr, output.stdout + output.stderr
    assert shown.returncode == 0 and "stage: WAITING_FOR_SELECTION" in shown.stdout
    assert "the workflow could not answer: [TMPRL1100] Nondeterminism error" in shown.stdout
    assert chosen.returncode == 1 and "could not answer" in chosen.stdout
    # the web chooser still lists it (without candidates), and every other waiting video
    assert [v.candidates for v in listed if v.workflow_id == workflow_id] == [[]]


def test_up_uses_a_server_that_already_answers(temporal_env, pipeline_env, clip_cache, env):
    video = add_video(clip_cache, env / "videos", unique_name())
    address = temporal_env.client.service_client.config.target_host

    result = cli("up", "--pick", "1", "--exit-when-done", address=address, timeout=180)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Embedded Temporal server" not in result.stdout and ": completed" in result.stdout
    assert f"Temporal server at {address}, namespace default" in result.stdout
    assert "Web UI" not in result.stdout  # that server's UI is not the embedded one's
    assert (env / "completed" / video.name).is_file()


async def test_worker_stops_gracefully_on_sigterm(temporal_env, pipeline_env):
    address = temporal_env.client.service_client.config.target_host
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "main_temporal.py"),
        "worker",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "TEMPORAL_ADDRESS": address},
    )
    banner = await asyncio.wait_for(worker.stdout.readline(), 30)
    assert b" polling " in banner
    worker.send_signal(signal.SIGTERM)
    output = (await asyncio.wait_for(worker.stdout.read(), 30)).decode()
    assert await worker.wait() == 0, output
    assert "Traceback" not in output


def test_up_runs_every_video_to_the_end_on_one_machine(env, clip_cache):
    videos = [add_video(clip_cache, env / "videos", unique_name()) for _ in range(2)]
    address = f"localhost:{free_port()}"
    ui_port = free_port()
    result = subprocess.run(
        [sys.executable, str(ROOT / "main_temporal.py"), "up", "--pick", "1", "--exit-when-done"],
        capture_output=True,
        text=True,
        timeout=180,
        env={
            **os.environ,
            "TEMPORAL_ADDRESS": address,
            "TEMPORAL_NAMESPACE": "cafe",  # created in the embedded server, shown in the link
            "TEMPORAL_UI_PORT": str(ui_port),
            "COLUMNS": "250",
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Embedded Temporal server at {address}" in output
    assert f"Web UI: http://localhost:{ui_port}/namespaces/cafe/workflows?query=" in output
    assert output.count(": completed") == 2 and "Traceback" not in output
    for video in videos:
        assert (env / "completed" / video.name).is_file() and not video.exists()


class LoopWithoutSignalHandlers(asyncio.SelectorEventLoop):
    """An event loop that cannot watch signals, as asyncio's loops on Windows."""

    def add_signal_handler(self, sig, callback, *args):
        raise NotImplementedError


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_the_commands_where_the_event_loop_cannot_watch_signals(stop_signal):
    from operator_cli.process import stop_on_signals

    async def stopped_by_the_signal() -> bool:
        stop = asyncio.Event()
        stop_on_signals(stop)  # what `worker`, `up`, `server` and `web` do
        os.kill(os.getpid(), stop_signal)
        await asyncio.wait_for(stop.wait(), 30)
        return stop.is_set()

    before = signal.getsignal(stop_signal)
    loop = LoopWithoutSignalHandlers()
    try:
        assert loop.run_until_complete(stopped_by_the_signal())
    finally:
        loop.close()
        signal.signal(stop_signal, before)


@pytest.mark.parametrize("in_the_environment", [False, True])
def test_the_temporal_server_may_be_named_in_the_env_file_and_the_environment_wins(
    temporal_env, pipeline_env, clip_cache, env, tmp_path, in_the_environment
):
    address = temporal_env.client.service_client.config.target_host
    video = add_video(clip_cache, env / "videos", unique_name())
    folder = tmp_path / "cafe"
    folder.mkdir()
    named = "localhost:1" if in_the_environment else address  # the .env's
    (folder / ".env").write_text(f"TEMPORAL_ADDRESS={named}\n", encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "TEMPORAL_ADDRESS"}
    if in_the_environment:
        environment["TEMPORAL_ADDRESS"] = address

    result = subprocess.run(
        [sys.executable, str(ROOT / "main_temporal.py"), "start", str(video)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        env={**environment, "COLUMNS": "250"},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{video.name}: started" in result.stdout
    workflow_id = workflow_id_for(video)
    asyncio.run(temporal_env.client.get_workflow_handle(workflow_id).cancel())
