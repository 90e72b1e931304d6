"""`service install|remove`: the systemd user unit it writes is one systemd accepts
(`systemd-analyze verify`, the Debian package `systemd`), runs this checkout's `cafe up`, is
restarted on failure and logs where `status` says; the launchd agent is a plist launchd reads
(checked with plistlib only: not tried on a Mac). No user instance of systemd runs here (no
session bus), so `install` says it could not enable the unit and how to."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from operator_cli import service as services

ROOT = Path(__file__).resolve().parent.parent
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is missing (Debian package systemd; make test installs it as root)",
)


def cafe(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "cafe"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(home), "COLUMNS": "250"},
    )


@needs_systemd
def test_the_systemd_unit_runs_up_here_restarts_on_failure_and_systemd_accepts_it(tmp_path):
    service = services.service_for(ROOT, tmp_path, platform="linux")
    services.write(service)
    unit = service.file.read_text()
    assert f"ExecStart={ROOT}/cafe up" in unit
    assert f"WorkingDirectory={ROOT}" in unit
    assert "Restart=on-failure" in unit and "WantedBy=default.target" in unit
    assert f"StandardOutput=append:{ROOT}/logs/cafe.log" in unit
    runtime = tmp_path / "runtime"  # the user manager's directory, which verify needs
    runtime.mkdir(mode=0o700)
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--user", str(service.file)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)},
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_launchd_agent_runs_up_at_login_and_again_after_a_failure(tmp_path):
    service = services.service_for(ROOT, tmp_path, platform="darwin")
    services.write(service)
    assert service.file == tmp_path / "Library/LaunchAgents/com.cafe-badminton-uploader.up.plist"
    agent = plistlib.loads(service.file.read_bytes())
    assert agent["ProgramArguments"] == [str(ROOT / "cafe"), "up"]
    assert agent["WorkingDirectory"] == str(ROOT)
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["StandardOutPath"] == agent["StandardErrorPath"] == str(ROOT / "logs/cafe.log")


@pytest.mark.skipif(sys.platform != "linux", reason="the command writes a systemd unit on Linux")
def test_install_writes_the_unit_says_whether_it_is_enabled_and_remove_takes_it_away(tmp_path):
    installed = cafe("service", "install", home=tmp_path)
    unit = tmp_path / ".config/systemd/user/cafe-uploader.service"
    assert unit.is_file()
    said = installed.stdout.splitlines()
    assert said[0] == f"Wrote {unit}."
    if installed.returncode == 0:  # a user instance of systemd runs here
        assert said[1].startswith("Enabled: `up` runs at login and again if it fails")
    else:
        assert said[1].startswith("Not enabled (") and "systemctl --user enable --now" in said[1]
    removed = cafe("service", "remove", home=tmp_path)
    assert removed.returncode == 0
    assert removed.stdout.startswith(f"Removed {unit}") and not unit.exists()
    again = cafe("service", "remove", home=tmp_path)
    assert again.stdout.strip() == "No service is installed for this folder: nothing to remove."


def test_status_names_the_installed_service_and_its_log(tmp_path):
    service = services.service_for(ROOT, tmp_path)
    services.write(service)
    line = services.service_line(service).text
    assert str(service.file) in line and line.endswith(f"its log: {ROOT / 'logs/cafe.log'}")
