"""Several `python -m bot run` processes on one PostgreSQL database, polling a loopback feed farm.

Run: .venv/bin/python -m benchmarks.scale --database-url postgresql://postgres@127.0.0.1:5432/test
     [--processes 3] [--sources 3000] [--interval 60] [--items 5] [--windows 2]

The benchmark makes a schema of its own in the database (dropped at the end), starts
`benchmarks/feedfarm.py` (N feeds) and P real `python -m bot run` processes (console messenger,
no Telegram) whose sources.toml lists the N feeds at `--interval`, then:

1. waits until every source was polled once (the first pass stores the backlog);
2. measures over `--windows` intervals: fetches per source per interval (from the farm's count of
   GETs per feed; target 1.00 ± 0.05, and the most any one source got) and CPU per process (from
   /proc, as a share of one core);
3. `kill -9`s one process and measures how long the sources it had claimed take to be polled
   again (bounded by BOT_CLAIM_TTL), then fetches per source per interval among the survivors.

Every wait is bounded. The farm's CPU is not counted (its own process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from benchmarks.pipeline import Farm
from bot.storage.engine import async_url, make_engine, migrate

REPO = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def start_bot(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A `python -m bot run` process, its log in a file."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def write_config(config: Path, port: int, sources: int, interval: int) -> None:
    config.mkdir()
    shutil.copy(REPO / "config" / "topics.toml", config / "topics.toml")
    (config / "sources.toml").write_text(
        f'[defaults]\ninterval = "{interval}s"\n\n'
        + "".join(
            f'[[sources]]\nid = "f{n}"\nname = "Feed {n}"\n'
            f'url = "http://127.0.0.1:{port}/f/{n}.xml"\n\n'
            for n in range(sources)
        ),
        encoding="utf-8",
    )


async def scalar(engine: AsyncEngine, sql: str, **params: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.scalar(text(sql), params)) or 0)


async def wait_for(
    engine: AsyncEngine, sql: str, want: int, limit: float, **params: object
) -> float:
    """Seconds until `sql` counts at least `want`; RuntimeError after `limit` seconds."""
    started = time.monotonic()
    while (got := await scalar(engine, sql, **params)) < want:
        if time.monotonic() - started > limit:
            raise RuntimeError(f"waited {limit:.0f} s: {got} of {want} ({sql})")
        await asyncio.sleep(0.5)
    return time.monotonic() - started


def per_interval(
    before: list[int], after: list[int], seconds: float, interval: int
) -> tuple[float, int]:
    """Mean fetches per source per interval, and the most fetches one source got in the window."""
    deltas = [b - a for a, b in zip(before, after, strict=True)]
    return statistics.fmean(deltas) / (seconds / interval), max(deltas)


async def bench(args: argparse.Namespace) -> None:
    schema = f"bench_scale_{int(time.time())}"
    admin = create_async_engine(async_url(args.database_url), poolclass=NullPool)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(args.database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    database_url = url.render_as_string(hide_password=False)
    engine = make_engine(database_url)
    await migrate(engine)  # before the bots, so that the counts below find the tables
    farm = Farm(args.sources, args.items)
    procs: list[subprocess.Popen[bytes]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        write_config(tmp / "config", farm.port, args.sources, args.interval)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BOT_CONFIG_DIR": str(tmp / "config"),
            "BOT_LOG_LEVEL": "WARNING",
            "BOT_CLAIM_TTL": f"{args.claim_ttl}s",
            # Every farm feed is on 127.0.0.1; real outlets are on thousands of hosts.
            "BOT_FETCH_PER_HOST": "20",
        }
        env.pop("TELEGRAM_BOT_TOKEN", None)
        procs = [start_bot(env, tmp / f"bot-{n}.log") for n in range(args.processes)]
        started = time.monotonic()
        polled = "SELECT count(*) FROM source_state WHERE last_success IS NOT NULL"
        await wait_for(engine, polled, args.sources, limit=600)
        print(
            f"{args.processes} processes x {args.sources} sources, interval {args.interval} s, "
            f"{args.items} items a feed; first pass done in {time.monotonic() - started:.0f} s"
        )

        counts, cpu, t0 = farm.counts(), [cpu_seconds(p.pid) for p in procs], time.monotonic()
        await asyncio.sleep(args.windows * args.interval)
        after, cpu2, t1 = farm.counts(), [cpu_seconds(p.pid) for p in procs], time.monotonic()
        rate, most = per_interval(counts, after, t1 - t0, args.interval)
        shares = [(b - a) / (t1 - t0) for a, b in zip(cpu, cpu2, strict=True)]
        print(
            f"steady: {rate:.3f} fetches per source per interval over {t1 - t0:.0f} s "
            f"(most for one source: {most} in {(t1 - t0) / args.interval:.1f} intervals)"
        )
        print("CPU per process (share of one core): " + ", ".join(f"{s:.2f}" for s in shares))

        victim = procs[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = await scalar(engine, "SELECT extract(epoch FROM now())::bigint")
        held = await scalar(
            engine,
            "SELECT count(*) FROM source_state WHERE claimed_by LIKE :pid AND claim_expires > now()",
            pid=f"%:{victim.pid}:%",
        )
        kill = time.monotonic()
        # The killed process's live claims: polled again once they expire (BOT_CLAIM_TTL).
        repolled = await wait_for(
            engine,
            "SELECT count(*) FROM source_state WHERE claimed_by IS NULL OR claimed_by NOT LIKE :pid",
            args.sources,
            limit=args.claim_ttl * 4 + 60,
            pid=f"%:{victim.pid}:%",
        )
        print(
            f"kill -9 of one process: it held {held} live claim(s); all taken over after "
            f"{repolled:.1f} s (BOT_CLAIM_TTL {args.claim_ttl} s; killed at epoch {killed_at})"
        )
        counts, t0 = farm.counts(), time.monotonic()
        await asyncio.sleep(args.interval)
        rate, most = per_interval(counts, farm.counts(), time.monotonic() - t0, args.interval)
        print(
            f"after the kill ({args.processes - 1} processes): {rate:.3f} fetches per source "
            f"per interval (most for one source: {most}); {time.monotonic() - kill:.0f} s since the kill"
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        farm.close()
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL DATABASE_URL")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--sources", type=int, default=3000)
    parser.add_argument("--interval", type=int, default=60, help="seconds (at least 10)")
    parser.add_argument("--items", type=int, default=5, help="items a feed")
    parser.add_argument("--windows", type=int, default=2, help="intervals measured")
    parser.add_argument("--claim-ttl", type=int, default=30, help="BOT_CLAIM_TTL, seconds")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
