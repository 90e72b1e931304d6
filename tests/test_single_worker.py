"""A second worker of one WORKER_NAME on one machine is refused in one line, whether started
with `worker` or `up`, and the name is free again once the first has stopped (even killed)."""

from __future__ import annotations

import signal

from tests.test_temporal_cli import cli, cli_process, free_port


def test_a_second_worker_of_the_same_name_is_refused_in_one_line(env, pipeline_env, temporal_env):
    pipeline_env(WORKER_NAME="counter-pc", TEMPORAL_UI_PORT=str(free_port()))
    address = temporal_env.client.service_client.config.target_host
    with cli_process("worker", address=address, ready=" polling ") as first:
        for command in ("worker", "up"):
            second = cli(command, address=address)
            assert second.returncode == 2, second.stdout + second.stderr
            assert second.stdout.strip() == (
                f"A worker named counter-pc already runs on this machine (process {first.pid}): "
                "stop it first, or give this one another WORKER_NAME."
            )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    with cli_process("worker", address=address, ready=" polling "):
        pass  # the name is free: the lock went with the process
