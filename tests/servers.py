"""Real servers for tests: PostgreSQL clusters, plinth in a thread or in its own process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from plinth.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(
    url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout}s")


class PostgresCluster:
    """A throwaway PostgreSQL cluster on a free loopback port (initdb + pg_ctl)."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="plinth-pg-"))
        self.port = free_port()
        self._counter = 0

    @staticmethod
    def available() -> bool:
        return shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None

    def _run(self, *args: str) -> None:
        env = dict(os.environ, LC_ALL="C")
        user = ["su", "postgres", "-c", " ".join(args)] if os.geteuid() == 0 else list(args)
        subprocess.run(user, check=True, capture_output=True, env=env)

    def start(self) -> None:
        data = self.directory / "data"
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c max_connections=300"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            f"'{options}'",
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class ThreadedServer(uvicorn.Server):
    """plinth served by uvicorn in a thread of the test process (httpx's test habit)."""

    def install_signal_handlers(self) -> None:  # not the main thread
        pass

    @contextmanager
    def running(self) -> Iterator[str]:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        try:
            while not self.started:
                time.sleep(0.01)
            yield f"http://127.0.0.1:{self.config.port}"
        finally:
            self.should_exit = True
            thread.join(timeout=10)


@contextmanager
def threaded_plinth(settings: Settings) -> Iterator[str]:
    from plinth.server.app import create_app

    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=free_port(), log_level="warning"
    )
    with ThreadedServer(config).running() as url:
        yield url


@contextmanager
def plinth_process(
    data_dir: Path, *extra: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real ``plinth server`` process; killed (if still alive) at the end."""
    port = port or free_port()
    process = start_plinth_process(data_dir, port, *extra, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process=process)
        yield url, process
    finally:
        stop_process(process)


def start_plinth_process(
    data_dir: Path, port: int, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PLINTH_")}
    full_env.update(env or {})
    log = open(data_dir / f"server-{port}.log", "ab")  # noqa: SIM115 (owned by the process)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plinth",
            "server",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=full_env,
    )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
