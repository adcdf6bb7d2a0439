"""A throw-away PostgreSQL server for tests and benchmarks, from Debian's binaries.

Started in a temporary directory on a free loopback port; as root the server runs
as the ``postgres`` system user (initdb refuses root). Set
``FENGQIAO_TEST_POSTGRES_URL`` to use a server of your own instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        found = shutil.which("initdb")
        if found:
            return Path(found).parent
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found: run 'make test' (it installs Debian's "
            "'postgresql' package) or set FENGQIAO_TEST_POSTGRES_URL."
        )
    return Path(candidates[0]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """``admin_url`` is a libpq URL to the maintenance database ``postgres``."""

    admin_url: str

    def sqlalchemy_url(self, database: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0]
        return base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + database

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run_as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def running_postgres(*, fsync: bool = False) -> Iterator[PostgresServer]:
    external = os.environ.get("FENGQIAO_TEST_POSTGRES_URL")
    if external:
        yield PostgresServer(admin_url=external)
        return
    bindir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="fengqiao-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
    port = _free_port()
    try:
        subprocess.run(
            _run_as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        options = (
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            f"-c fsync={'on' if fsync else 'off'} -c synchronous_commit={'on' if fsync else 'off'}"
        )
        subprocess.run(
            _run_as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        raise PostgresUnavailable(f"could not start PostgreSQL: {exc.stderr}\n{log}") from exc
    try:
        yield PostgresServer(admin_url=f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run(
            _run_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
