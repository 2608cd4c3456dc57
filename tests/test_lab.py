"""`make lab` keeps the lab private: localhost only, and nothing without the token.

The test takes the command line from the Makefile itself (``make -n lab``), so the
server it starts is the one `make lab` starts; it adds only ``--no-browser``, a free
port and, where tests run as root, ``--allow-root``. Jupyter generates the token at
start-up; the test reads it from the server's runtime file, as `jupyter server list`
does.
"""

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from utils import REPO_ROOT

ROOT = REPO_ROOT


def lab_command() -> list[str]:
    """`make lab`'s command line, with this interpreter's Jupyter."""
    output = subprocess.run(
        # STAMP= drops the install prerequisite, so only the lab's own line prints.
        ["make", "--no-print-directory", "-n", "lab", "STAMP=",
         f"BIN={Path(sys.executable).parent}"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    (line,) = output.strip().splitlines()
    return shlex.split(line)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(url: str, **headers: str) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def runtime_info(runtime: Path) -> dict | None:
    """The server's runtime record, once it is completely written."""
    for path in runtime.glob("jpserver-*.json"):
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:  # Still being written.
            return None
    return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    config = tmp_path_factory.mktemp("jupyter-config")  # No personal settings.
    port = free_port()
    command = [*lab_command(), "--no-browser", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0"]  # fmt: skip
    if os.geteuid() == 0:  # CI containers run as root; Jupyter asks to confirm that.
        command.append("--allow-root")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("JUPYTER_TOKEN")
    }
    env.update(JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_CONFIG_DIR=str(config))
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while (info := runtime_info(runtime)) is None:
            if server.poll() is not None or time.monotonic() > deadline:
                output = (
                    server.stdout.read().decode() if server.poll() is not None else ""
                )
                pytest.fail(f"the lab did not start: {command}\n{output[-3000:]}")
            time.sleep(0.2)
        yield {"command": command, "info": info, "pid": server.pid, "port": port}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_lab_command_pins_its_address(lab):
    assert "--ServerApp.ip=127.0.0.1" in lab["command"]


def test_a_request_without_the_token_is_refused(lab):
    base = f"http://127.0.0.1:{lab['port']}"
    token = lab["info"]["token"]
    assert len(token) >= 32, "Jupyter's generated token is missing or short"
    assert status(f"{base}/api/contents") == 403
    assert status(f"{base}/api/kernels", Authorization="token wrong") == 403
    assert status(f"{base}/api/contents", Authorization=f"token {token}") == 200
    assert status(f"{base}/lab?token={token}") == 200
    # A page that pretends to be another host (DNS rebinding) is refused too.
    assert status(f"{base}/lab?token={token}", Host="course.example.com") == 403


def listening_sockets(process: psutil.Process) -> set[tuple[str, int]]:
    """Listening addresses of a process; none if it has exited meanwhile."""
    try:
        connections = process.net_connections(kind="inet")
    except psutil.NoSuchProcess:  # A short-lived child (make, a shell) ended.
        return set()
    return {
        (connection.laddr.ip, connection.laddr.port)
        for connection in connections
        if connection.status == psutil.CONN_LISTEN
    }


def test_the_lab_listens_on_localhost_only(lab):
    server = psutil.Process(lab["pid"])
    listening = set().union(
        *(listening_sockets(p) for p in (server, *server.children(recursive=True)))
    )
    assert ("127.0.0.1", lab["port"]) in listening, listening
    assert {address for address, _ in listening} == {"127.0.0.1"}, listening
