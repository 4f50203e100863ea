"""Throw-away PostgreSQL and Redis servers on free loopback ports, in a temporary folder.

Debian's packages (``make scaleout-deps``). PostgreSQL refuses to run as root, so
when we are root its ``initdb``/``pg_ctl`` run as the ``postgres`` user
(``runuser``) on a folder that user owns. Trust authentication, loopback only,
no fsync: a test database, gone when stopped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List

from tests.servers import free_port

REDIS_SERVER = "/usr/bin/redis-server"


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    return found[-1].parent if found else None


def missing_packages() -> List[str]:
    missing = [] if postgres_bin() else ["postgresql"]
    return missing + ([] if Path(REDIS_SERVER).exists() else ["redis-server"])


def _as_postgres(cmd: List[str]) -> List[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class Postgres:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/rasa"


def start_postgres() -> Postgres:
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: run `make scaleout-deps`")
    folder = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    pg = Postgres(folder=folder, port=free_port())
    data = folder / "data"
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-N"]
        ),
        **run,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={pg.port} "
        f"-c unix_socket_directories={folder} -c fsync=off -c max_connections=100"
    )
    subprocess.run(
        _as_postgres(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "pg.log"), "-o", options]
            + ["-w", "-t", "60", "start"]
        ),
        **run,
    )
    subprocess.run(
        _as_postgres(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres"]
            + ["rasa"]
        ),
        **run,
    )
    return pg


def create_database(pg: Postgres, name: str, template: str | None = None) -> str:
    """Another database on the same server, empty or a copy of ``template`` (which nobody
    may be connected to); its URL."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: run `make scaleout-deps`")
    copy = ["-T", template] if template else []
    createdb = [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres"]
    subprocess.run(_as_postgres([*createdb, *copy, name]), check=True, capture_output=True)
    return pg.url.rsplit("/", 1)[0] + "/" + name


def stop_postgres(pg: Postgres) -> None:
    bindir = postgres_bin()
    if bindir is not None:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(pg.folder / "data"), "-m", "fast"])
            + ["-w", "stop"],
            capture_output=True,
            check=False,
        )
    shutil.rmtree(pg.folder, ignore_errors=True)


@dataclass
class Redis:
    folder: Path
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"


def start_redis() -> Redis:
    if not Path(REDIS_SERVER).exists():
        raise RuntimeError("redis-server is not installed: run `make scaleout-deps`")
    folder, port = Path(tempfile.mkdtemp(prefix="clinic-redis-")), free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
        + ["--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=(folder / "redis.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    redis = Redis(folder=folder, port=port, process=process)
    import redis as redis_client

    deadline = time.monotonic() + 20
    while True:
        try:
            if redis_client.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping():
                return redis
        except redis_client.RedisError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_redis(redis)
                raise RuntimeError(f"redis-server did not start: {folder / 'redis.log'}") from None
            time.sleep(0.1)


def stop_redis(redis: Redis) -> None:
    if redis.process.poll() is None:
        redis.process.terminate()
        try:
            redis.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            redis.process.kill()
            redis.process.wait()
    shutil.rmtree(redis.folder, ignore_errors=True)
