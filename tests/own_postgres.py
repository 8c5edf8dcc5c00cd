"""A PostgreSQL server of a test's own, which the test may stop and start under a running bot.

Built with Debian's server binaries (/usr/lib/postgresql/*/bin: initdb, pg_ctl) in a fresh
directory, listening on 127.0.0.1 at an OS-chosen free port, trust authentication. As root the
binaries run as the `postgres` user (initdb refuses root). `own_postgres()` returns None, with
the reason, where the binaries or that user are missing, so the test can skip saying why.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OwnPostgres:
    """One server: its data directory, port and the commands that stop and start it."""

    bin_dir: Path
    data: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.data / "server.log"), "-w", "start")

    def stop(self) -> None:
        """Stop at once ("fast": sessions are cut, as when a database host goes away)."""
        self._ctl("-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.data.parent, ignore_errors=True)


def own_postgres() -> tuple[OwnPostgres | None, str]:
    """A started server, or None and why there is none."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        return None, "needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin/initdb)"
    as_user: list[str] = []
    # Outside the test's tmp_path: its parents are private to root, and the server runs as
    # postgres.
    home = Path(tempfile.mkdtemp(prefix="own-pg-"))
    data = home / "data"
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root needs a 'postgres' user for initdb"
        os.chown(home, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run(
            [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=trust", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(home, ignore_errors=True)
        return None, f"initdb failed: {exc}"
    server = OwnPostgres(bin_dir, data, _free_port(), as_user)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        server.remove()
        return None, f"pg_ctl start failed: {exc.stderr.decode(errors='replace')[-300:]}"
    return server, ""
