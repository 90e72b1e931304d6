"""How fast the Temporal CLI starts: `python main_temporal.py --help` against a bare interpreter
importing what it cannot do without (temporalio's client, Typer, rich), each a process of its
own, rounds interleaved so a busy machine slows both alike; and how many modules the operator API
(`import temporal.client`) and the CLI's quick commands' code add to an interpreter.

Target: `--help` within 1.25x of the baseline (best of the rounds, and median). Also shown, with
no target: the code `pending` and `status` load before they ask the server anything.

    python bench/bench_cli_start.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.25
BASELINE = "import temporalio.client, typer, rich"
# what `pending` loads before it asks the server (as the command imports it)
PENDING_CODE = (
    "import main_temporal, cli_support, operator_cli.connecting, operator_cli.output, "
    "operator_cli.videos, temporal.client"
)
# modules an interpreter loads for a statement, after its own start
ADDED = "import sys; before = set(sys.modules); {}; print(len(set(sys.modules) - before))"
HEAVY = ("cv2", "av", "googleapiclient")


def seconds(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def modules_added(statement: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", ADDED.format(statement)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def heavy_loaded(statement: str) -> list[str]:
    check = f"import sys; {statement}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, check=True, capture_output=True, text=True
    )
    return [name for name in done.stdout.strip().split(",") if name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    commands = {
        "main_temporal.py --help": [sys.executable, str(REPO / "main_temporal.py"), "--help"],
        "pending's code": [sys.executable, "-c", PENDING_CODE],
        BASELINE: [sys.executable, "-c", BASELINE],
    }
    for command in commands.values():
        seconds(command)  # warm the file cache and the bytecode
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            times[name].append(seconds(command))
    print(f"CLI start, {rounds} interleaved rounds, one process each (best / median):")
    for name, measured in times.items():
        print(f"  {name:<38} {min(measured):.3f} / {statistics.median(measured):.3f} s")
    base = times[BASELINE]
    for name in ("main_temporal.py --help", "pending's code"):
        best = min(times[name]) / min(base)
        median = statistics.median(times[name]) / statistics.median(base)
        target = "--help" in name
        verdict = ("met" if max(best, median) <= TARGET_RATIO else "MISSED") if target else "-"
        print(
            f"  {name}: {best:.2f}x best, {median:.2f}x median (target <= {TARGET_RATIO}x "
            f"for --help): {verdict}"
        )
    print("Modules added to an interpreter (heavy ones loaded):")
    for statement in (BASELINE, "import temporal.client", "import main_temporal", PENDING_CODE):
        heavy = ", ".join(heavy_loaded(statement)) or "none"
        print(f"  {statement:<40} {modules_added(statement):5d}  ({heavy})")


if __name__ == "__main__":
    main()
