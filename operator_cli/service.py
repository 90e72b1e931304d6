"""`service install|remove`: `up` as a service of this user, started at login and again when it
fails, its output in one log file: a systemd user unit on Linux, a launchd agent on macOS.

The unit and the agent are rendered here as text (pure), and written and enabled by `install`;
the log file is what `status` names while a service is installed."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from operator_cli.lines import Line

UNIT_NAME = "cafe-uploader.service"
AGENT_LABEL = "com.cafe-badminton-uploader.up"
RESTART_SECONDS = 10
STOP_SECONDS = 60  # `up` lets running steps finish for a few seconds on SIGTERM


@dataclass(frozen=True)
class Service:
    """Where this checkout's service lives and logs."""

    kind: str  # "systemd" or "launchd"
    file: Path  # the unit or the agent's plist
    checkout: Path  # the folder of `cafe`, its working directory (its `.env`)
    log: Path

    @property
    def command(self) -> list[str]:
        return [str(self.checkout / "cafe"), "up"]


def service_for(checkout: Path, home: Path, platform: str = sys.platform) -> Service:
    log = checkout / "logs" / "cafe.log"
    if platform == "darwin":
        return Service(
            "launchd", home / "Library/LaunchAgents" / f"{AGENT_LABEL}.plist", checkout, log
        )
    return Service("systemd", home / ".config/systemd/user" / UNIT_NAME, checkout, log)


def systemd_unit(service: Service) -> str:
    """The user unit: `up` at login (default.target), restarted when it fails, not when it
    is stopped; stdout and stderr appended to the log (systemd 240 and later)."""
    command = " ".join(_quoted(part) for part in service.command)
    return f"""[Unit]
Description=Café badminton uploader (cafe up in {service.checkout})
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
WorkingDirectory={_quoted(str(service.checkout))}
ExecStart={command}
Environment=PYTHONUNBUFFERED=1 COLUMNS=120
Restart=on-failure
RestartSec={RESTART_SECONDS}
TimeoutStopSec={STOP_SECONDS}
StandardOutput=append:{service.log}
StandardError=inherit

[Install]
WantedBy=default.target
"""


def _quoted(text: str) -> str:
    return f'"{text}"' if any(c.isspace() for c in text) else text


def launchd_agent(service: Service) -> bytes:
    """The agent's plist: run at login (RunAtLoad), again whenever it exits with a failure
    (KeepAlive: SuccessfulExit false), its output appended to the log."""
    return plistlib.dumps(
        {
            "Label": AGENT_LABEL,
            "ProgramArguments": service.command,
            "WorkingDirectory": str(service.checkout),
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},
            "ThrottleInterval": RESTART_SECONDS,
            "ExitTimeOut": STOP_SECONDS,
            "StandardOutPath": str(service.log),
            "StandardErrorPath": str(service.log),
            "EnvironmentVariables": {"PYTHONUNBUFFERED": "1", "COLUMNS": "120"},
        }
    )


def write(service: Service) -> None:
    service.file.parent.mkdir(parents=True, exist_ok=True)
    service.log.parent.mkdir(parents=True, exist_ok=True)
    if service.kind == "launchd":
        content = launchd_agent(service)
    else:
        content = systemd_unit(service).encode()
    temporary = service.file.with_name(f".{service.file.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, service.file)


def enable_commands(service: Service) -> list[list[str]]:
    if service.kind == "launchd":
        return [["launchctl", "load", "-w", str(service.file)]]
    return [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", UNIT_NAME],
    ]


def disable_commands(service: Service) -> list[list[str]]:
    if service.kind == "launchd":
        return [["launchctl", "unload", "-w", str(service.file)]]
    return [["systemctl", "--user", "disable", "--now", UNIT_NAME]]


def forget_commands(service: Service) -> list[list[str]]:
    """Once the file is gone: systemd reads its units again; launchd has nothing to forget."""
    return [["systemctl", "--user", "daemon-reload"]] if service.kind == "systemd" else []


def run_each(commands: list[list[str]]) -> str | None:
    """Run the service manager's commands in turn; what went wrong, or None."""
    for command in commands:
        if shutil.which(command[0]) is None:
            return f"{command[0]} is not on this machine"
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            return f"`{' '.join(command)}` failed: {said[-1] if said else done.returncode}"
    return None


def installed(checkout: Path, home: Path) -> Service | None:
    """This checkout's service, when one is installed for this user."""
    service = service_for(checkout, home)
    return service if service.file.is_file() else None


def service_line(service: Service) -> Line:
    """What `status` says of an installed service."""
    manager = "systemd user unit" if service.kind == "systemd" else "launchd agent"
    return Line(f"Runs as a service ({manager} {service.file}); its log: {service.log}")
