"""Soak run: the real bot (`python -m bot run`) for a long time against misbehaving neighbours.

The bot runs as a subprocess against `benchmarks/soakfarm.py` (N loopback feeds; a share of the
requests time out, answer 500, garbage, a slow trickle or an HTML page) and the Bot API emulator
of `tests/emulator` (Telegram's rate limits, plus random 429s with `retry_after` and 500/502/503s
injected into sendMessage). Three private chats and one supergroup subscribe with /start; a new
on-topic item is published every few seconds in a random feed.

Reported: the bot's RSS (from /proc) after warm-up and at the end, its open file descriptors
(/proc) and asyncio tasks (its "stats:" log line, once a minute) over the run, and items lost and
duplicated: every item the farm showed the bot after its first sight of the feed must reach every
chat exactly once (compared by the `[soak F-N]` tag in the titles).

    .venv/bin/python -m benchmarks.soak                       # 20 minutes, 200 feeds
    .venv/bin/python -m benchmarks.soak --duration 2m --sources 50    # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "1")

from benchmarks.soakfarm import TAG, SoakFarm, serve
from bot.text.durations import parse_duration
from tests.emulator.server import Fault, TelegramEmulator

REPO = Path(__file__).resolve().parent.parent
PRIVATE_CHATS = (7001, 7002, 7003)
GROUP, GROUP_ADMIN = -1001234567890, 7009
_STATS = re.compile(r"stats: tasks=(\d+) fds=(\d+) rss=([\d.]+)MB")


@dataclass
class Sample:
    """One look at the bot process."""

    at: float  # seconds since start
    rss_mb: float  # MiB (VmRSS)
    fds: int


@dataclass
class Run:
    """Everything observed during the run."""

    samples: list[Sample] = field(default_factory=list)
    tasks: list[tuple[float, int]] = field(default_factory=list)  # from the bot's stats lines
    tg_faults: Counter[str] = field(default_factory=Counter)


def _proc(pid: int) -> tuple[float, int]:
    """RSS in MiB and open descriptors of process `pid`."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        rss_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def _write_config(root: Path, port: int, sources: int) -> Path:
    config = root / "config"
    config.mkdir()
    shutil.copy(REPO / "config" / "topics.toml", config / "topics.toml")
    lines = ['[defaults]\ninterval = "30s"\nlanguage = "en"\n']
    for i in range(sources):
        lines.append(
            f'[[sources]]\nid = "soak-{i}"\nname = "Soak {i}"\n'
            f'url = "http://127.0.0.1:{port}/s/{i}.xml"\n'
        )
    (config / "sources.toml").write_text("\n".join(lines), encoding="utf-8")
    return config


def _start_bot(
    root: Path, config: Path, emu: TelegramEmulator, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_API_BASE_URL": emu.api_url,
        "DATABASE_URL": f"sqlite:///{root / 'soak.db'}",
        "BOT_CONFIG_DIR": str(config),
        "BOT_FETCH_TIMEOUT": "5",
        "BOT_FETCH_PER_HOST": "20",  # every feed is on 127.0.0.1
        "BOT_MAX_BACKOFF": "2m",
        "BOT_LOG_LEVEL": "INFO",
        "PTB_TIMEDELTA": "1",
    }
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )


async def _subscribe(emu: TelegramEmulator) -> None:
    await emu.wait_until_async(lambda: emu.requests("getUpdates"), timeout=60)
    for chat in PRIVATE_CHATS:
        emu.send_command(chat, "/start", chat_type="private", user_id=chat)
    emu.add_chat(GROUP, "supergroup", title="Soak group")
    emu.set_member_status(GROUP, GROUP_ADMIN, "administrator")
    emu.send_command(GROUP, "/start", chat_type="supergroup", user_id=GROUP_ADMIN)
    for chat in (*PRIVATE_CHATS, GROUP):
        await emu.wait_for_messages_async(chat, 1, timeout=60)


def _inject_fault(emu: TelegramEmulator, rng: random.Random, run: Run) -> None:
    chat = rng.choice((*PRIVATE_CHATS, GROUP))
    if rng.random() < 0.5:
        emu.inject(chat, Fault.retry_after(rng.randint(1, 3)), methods=["sendMessage"])
        run.tg_faults["429"] += 1
    else:
        status = rng.choice((500, 502, 503))
        emu.inject(chat, Fault.server_error(status), methods=["sendMessage"])
        run.tg_faults[str(status)] += 1


def _received(emu: TelegramEmulator) -> dict[int, Counter[tuple[int, int]]]:
    got: dict[int, Counter[tuple[int, int]]] = {}
    for chat in (*PRIVATE_CHATS, GROUP):
        tags: Counter[tuple[int, int]] = Counter()
        for message in emu.sent_messages(chat):
            for f, n in TAG.findall(message.plain_text):
                tags[(int(f), int(n))] += 1
        got[chat] = tags
    return got


def _read_tasks(log: Path, started: float, run: Run) -> None:
    run.tasks = []
    with open(log, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if m := _STATS.search(line):
                run.tasks.append((time.monotonic() - started, int(m.group(1))))


async def soak(args: argparse.Namespace) -> int:
    """The whole run; prints the report; exit status 0 when every target is met."""
    rng = random.Random(args.seed)
    farm = SoakFarm(args.sources, args.fault_rate, rng)
    server = await serve(farm)
    port = server.sockets[0].getsockname()[1]
    run = Run()
    with tempfile.TemporaryDirectory() as tmp, TelegramEmulator() as emu:
        root = Path(tmp)
        log = root / "bot.log"
        bot = _start_bot(root, _write_config(root, port, args.sources), emu, log)
        started = time.monotonic()
        try:
            await _subscribe(emu)
            await _drive(args, farm, emu, bot, run, rng, started)
            drained = await _drain(args, farm, emu)
        finally:
            bot.send_signal(signal.SIGTERM)
            code = bot.wait(30)
            server.close()
        _read_tasks(log, started, run)
        errors = [
            line
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
            if " ERROR " in line or "Traceback" in line
        ]
        if args.keep_log:
            shutil.copy(log, args.keep_log)
        return _report(args, farm, emu, run, drained, code, errors)


async def _drive(
    args: argparse.Namespace,
    farm: SoakFarm,
    emu: TelegramEmulator,
    bot: subprocess.Popen[bytes],
    run: Run,
    rng: random.Random,
    started: float,
) -> None:
    end = started + args.duration
    next_publish = next_fault = next_sample = time.monotonic()
    while (now := time.monotonic()) < end:
        if bot.poll() is not None:
            raise RuntimeError(f"the bot exited early with {bot.returncode}")
        if now >= next_publish:
            farm.publish()
            next_publish += args.publish_every
        if now >= next_fault:
            _inject_fault(emu, rng, run)
            next_fault += args.tg_fault_every
        if now >= next_sample:
            rss, fds = _proc(bot.pid)
            run.samples.append(Sample(now - started, rss, fds))
            next_sample += args.sample_every
        await asyncio.sleep(0.2)  # a benchmark's own clock, not a test's wait
    rss, fds = _proc(bot.pid)
    run.samples.append(Sample(time.monotonic() - started, rss, fds))


async def _drain(args: argparse.Namespace, farm: SoakFarm, emu: TelegramEmulator) -> float:
    """Publishing stopped: wait until every item was shown and delivered, or `drain` seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.drain:
        expected = farm.expected()
        got = _received(emu)
        # Done when every published item was shown to the bot and reached every chat.
        if farm.never_shown() == 0 and all(expected <= set(tags) for tags in got.values()):
            break
        await asyncio.sleep(1.0)  # a benchmark's own clock, not a test's wait
    return time.monotonic() - t0


def _report(
    args: argparse.Namespace,
    farm: SoakFarm,
    emu: TelegramEmulator,
    run: Run,
    drained: float,
    code: int,
    errors: list[str],
) -> int:
    expected = farm.expected()
    got = _received(emu)
    lost = {chat: len(expected - set(tags)) for chat, tags in got.items()}
    dups = {chat: sum(c - 1 for c in tags.values() if c > 1) for chat, tags in got.items()}
    extra = {chat: len(set(tags) - expected) for chat, tags in got.items()}
    warm = [s for s in run.samples if s.at >= args.warmup] or run.samples
    first, last = warm[0], warm[-1]
    growth = (last.rss_mb - first.rss_mb) / first.rss_mb * 100
    tasks = [t for at, t in run.tasks if at >= args.warmup] or [t for _, t in run.tasks]
    fds = [s.fds for s in warm]
    c = farm.counters
    print(f"soak: {args.duration / 60:.1f} min, {args.sources} feeds, seed {args.seed}")
    print(
        f"  farm: {len(farm.published)} items published, {len(expected)} shown to the bot "
        f"after first sight, {farm.never_shown()} never shown (their feed still failing when the drain ended)"
    )
    print(
        f"  farm answers: {c.ok} feeds, {c.not_modified} 304s, faults "
        + ", ".join(f"{k} {v}" for k, v in c.faults.items())
    )
    print(
        f"  telegram: {emu.stats.requests} requests, injected "
        + ", ".join(f"{k} {v}" for k, v in sorted(run.tg_faults.items()))
        + f"; errors answered {dict(emu.stats.errors)}"
    )
    missing = sorted({f for (f, n) in farm.published if n not in farm.feeds[f].delivered})
    if missing:
        print(f"  feeds with items never shown: {missing[:20]}")
    print(f"  items lost per chat {lost}  (target 0)")
    print(f"  items duplicated per chat {dups}  (target 0)")
    print(f"  items not expected per chat {extra}")
    print(f"  drain after publishing stopped: {drained:.0f} s")
    print(f"  RSS at start ({run.samples[0].at:.0f} s) {run.samples[0].rss_mb:.1f} MiB")
    print(
        f"  RSS after warm-up ({first.at / 60:.1f} min) {first.rss_mb:.1f} MiB, at the end "
        f"{last.rss_mb:.1f} MiB: {growth:+.1f} % (target < 10 %); "
        f"samples min {min(s.rss_mb for s in warm):.1f} max {max(s.rss_mb for s in warm):.1f}"
    )
    print(f"  open fds after warm-up: min {min(fds)} max {max(fds)} end {fds[-1]}")
    if tasks:
        print(f"  asyncio tasks after warm-up: min {min(tasks)} max {max(tasks)} end {tasks[-1]}")
    print(f"  bot exit code {code}; {len(errors)} ERROR/Traceback log lines")
    for line in errors[:10]:
        print(f"    {line[:200]}")
    ok = not any(lost.values()) and not any(dups.values()) and growth < 10 and code == 0
    return 0 if ok else 1


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="20m", help="how long to publish (default 20m)")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.25)
    parser.add_argument("--publish-every", type=float, default=5.0, help="seconds")
    parser.add_argument("--tg-fault-every", type=float, default=3.0, help="seconds")
    parser.add_argument("--sample-every", type=float, default=30.0, help="seconds")
    parser.add_argument("--warmup", default=None, help="default: a quarter of the run, at most 5m")
    parser.add_argument("--drain", type=float, default=600.0, help="seconds, at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-log", type=Path, default=None, help="copy the bot's log here")
    args = parser.parse_args()
    args.duration = parse_duration(args.duration)
    args.warmup = parse_duration(args.warmup) if args.warmup else min(300, args.duration // 4)
    sys.exit(asyncio.run(soak(args)))


if __name__ == "__main__":
    main()
