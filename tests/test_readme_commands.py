"""The README's everyday commands, exactly as it writes them, in a fresh `git clone` of this
checkout, as a café runs them: `./cafe up` in one terminal, the others in another. The clone
reuses this checkout's `.venv` through a symlink (installing again would take a minute); the
scripts it runs are the clone's own, first on the import path. Only the ports, the task queue
and the settling time come from the environment, so parallel suites do not collide."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.temporal_support import add_video
from tests.test_temporal_cli import free_port, printed, wait_until

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- tests/test_readme_commands.py runs this block as written"
VIDEO = "md_NhozVinhvsKhanhzLeo.mp4"


def everyday_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(re.escape(MARKER) + r".*?-->\n```bash\n(.*?)```", readme, re.S)
    assert block, "the README's everyday block is gone"
    return [line.split("  #")[0].strip() for line in block[1].splitlines() if line.strip()]


def with_working_changes(clone: Path) -> None:
    """This checkout's edits not yet committed, in the clone too: what a developer tests is
    what they will commit (CI's checkout has none)."""
    diff = subprocess.run(
        ["git", "diff", "HEAD", "--binary"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    if diff:
        subprocess.run(["git", "apply"], cwd=clone, input=diff, check=True)
    untracked = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, untracked.split("\0")):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        (clone / name).write_bytes((ROOT / name).read_bytes())


def test_the_readmes_everyday_commands_work_as_written_in_a_fresh_clone(clip_cache, tmp_path):
    commands = everyday_commands()
    assert commands[0] == "./cafe up" and len(commands) >= 3
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    with_working_changes(clone)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    environment = {
        **{name: value for name, value in os.environ.items() if not name.endswith("_DIR")},
        "TEMPORAL_ADDRESS": f"localhost:{free_port()}",
        "TEMPORAL_UI_PORT": str(free_port()),
        "TEMPORAL_TASK_QUEUE": f"readme-{uuid.uuid4().hex[:8]}",
        "INGEST_SETTLE": "0",
        "WATCH_INTERVAL": "1",
        "COLUMNS": "200",
    }

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            shlex.split(command),
            cwd=clone,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with tempfile.TemporaryFile("w+") as output:
        up = subprocess.Popen(
            shlex.split(commands[0]),
            cwd=clone,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until(lambda: "Watching videos for new videos." in printed(output), 120)
            assert "Made the folder videos (INPUT_DIR)." in printed(output)
            add_video(clip_cache, clone / "videos", VIDEO)
            wait_until(lambda: "waiting for your choice: select 1" in printed(output), 180)
            said = {command: run(command) for command in commands[1:]}
            wait_until(lambda: f"published {VIDEO}: file://" in printed(output), 180)
            status = run(commands[-1])
        except AssertionError:
            print(printed(output))  # what `up` said, shown with the failure
            raise
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(timeout=60)
    for command, result in said.items():
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    pending = next(result for command, result in said.items() if "pending" in command)
    assert VIDEO in pending.stdout
    assert "COMPLETED" in status.stdout and VIDEO in status.stdout
    assert (clone / "published").is_dir() and any((clone / "published").iterdir())
