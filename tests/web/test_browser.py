"""The status page in a real browser: headless Chromium (Debian's package) renders it from the server.

Chromium runs as a subprocess against the real server on loopback; the tests read what it
rendered (`--dump-dom`) and the pixels it drew (`--screenshot`, at a phone's and a desktop's
width). With STATUS_SCREENSHOT=dir the screenshots are also written there (docs/:
status-page.png, status-page-desktop.png). axe-core (`@axe-core/cli`, from npm, driving the same
Chromium through Debian's chromedriver) audits the page for accessibility faults.
Skipped, saying why, only where /usr/bin/chromium (or, for axe, the `axe` command or
/usr/bin/chromedriver) is absent (`.ci/run` installs Chromium; `npm install -g @axe-core/cli`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Source
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.storage.test_stories import CALL
from tests.web.rig import WebRig, start_rig

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
PHONE = (390, 844)
DESKTOP = (1280, 900)
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HAVE_CHROMEDRIVER = CHROMEDRIVER.exists()
CALLED = {"apa": 95, "trend": 80}  # minutes ago: APA reported the phone call first, then Trend
NOW = datetime.now(UTC).replace(microsecond=0)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run does)",
)


async def chromium(tmp_path: Path, *args: str, timeout: float = 90.0) -> bytes:  # noqa: ASYNC109
    """Run Chromium with a fresh profile; its standard output (the DOM for --dump-dom)."""
    profile = tmp_path / f"profile-{uuid.uuid4().hex}"
    process = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        *FLAGS,
        f"--user-data-dir={profile}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    shutil.rmtree(profile, ignore_errors=True)
    return out


@pytest.fixture
async def rig(db_engine: AsyncEngine, feed_server: FeedServer) -> AsyncIterator[WebRig]:
    outlets = [
        ("apa", "APA English", ["Azerbaijan and Iran sign a new transit deal"]),
        ("tehran-times", "Tehran Times", ["Pezeshkian receives Azerbaijani foreign minister"]),
        ("trend", "Trend News Agency", ["Baku and Tehran discuss the Aras corridor"]),
        ("irna", "IRNA English", ["Weather in Isfahan"]),
    ]
    sources = []
    for n, (sid, name, titles) in enumerate(outlets):
        entries = [
            item(10 * n + k, title=t, pub_date=NOW - timedelta(minutes=37 * n + k))
            for k, t in enumerate(titles)
        ]
        if sid in CALLED:  # both report the presidents' phone call: one story
            link = f"https://{sid}.example/call"
            title, text = CALL[sid]
            when = NOW - timedelta(minutes=CALLED[sid])
            entries.append(
                item(10 * n + 9, title=title, description=text, link=link, guid=link, pub_date=when)
            )
        feed_server.put(f"/b/{sid}.xml", rss(entries))
        sources.append(Source(sid, name, feed_server.url(f"/b/{sid}.xml"), 600.0))
    feed_server.fail("/b/caspian.xml", 503)
    sources.append(Source("caspian", "Caspian News", feed_server.url("/b/caspian.xml"), 600.0))
    rig = await start_rig(db_engine, sources, poll_first=True)
    try:
        yield rig
    finally:
        await rig.close()


async def test_chromium_renders_the_status_page_with_sources_stories_and_outbox(
    rig: WebRig, tmp_path: Path
):
    dom = (await chromium(tmp_path, "--dump-dom", f"{rig.base}/")).decode()
    assert "<title>media-review-bot · status</title>" in dom
    assert 'id="outbox-depth">outbox: 0 waiting</li>' in dom
    assert 'id="sources-count">5 sources</li>' in dom
    assert 'id="failing-count">1 failing</li>' in dom
    for title in (
        "Azerbaijan and Iran sign a new transit deal",
        "Pezeshkian receives Azerbaijani foreign minister",
        "Baku and Tehran discuss the Aras corridor",
    ):
        assert title in dom
    assert "Weather in Isfahan" not in dom  # not flagged
    # The call, reported by APA and then Trend, is one story: APA's title, both outlets linked.
    assert dom.count(CALL["apa"][0]) == 1
    assert CALL["trend"][0] not in dom
    [story] = re.findall(
        r"<li>(?:(?!</li>).)*?" + re.escape(CALL["apa"][0]) + r".*?</li>", dom, re.S
    )
    assert '<a href="https://apa.example/call" rel="noopener noreferrer">APA English</a>' in story
    assert (
        '<a href="https://trend.example/call" rel="noopener noreferrer">Trend News Agency</a>'
        in story
    )
    assert "HTTP 503" in dom  # Caspian News' last error
    assert '<td data-label="Health" class="failing">failing</td>' in dom
    assert dom.count('class="ok">ok</td>') == 4
    assert "<script" not in dom


@pytest.mark.parametrize(
    ("size", "name"), [(PHONE, "status-page.png"), (DESKTOP, "status-page-desktop.png")]
)
async def test_chromium_draws_the_page_at_a_phone_and_a_desktop_width(
    rig: WebRig, tmp_path: Path, size: tuple[int, int], name: str
):
    shot = tmp_path / "status.png"
    await chromium(
        tmp_path,
        f"--screenshot={shot}",
        f"--window-size={size[0]},{size[1]}",
        f"{rig.base}/",
    )
    png = await asyncio.to_thread(shot.read_bytes)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == size
    assert _distinct_colours(png) > 8  # text and colours were drawn, not a blank page
    target = os.environ.get("STATUS_SCREENSHOT")
    if target:
        await asyncio.to_thread((Path(target) / name).write_bytes, png)


def _axe() -> str | None:
    """The `axe` command of @axe-core/cli, if installed (npm's global bin, or beside node)."""
    found = shutil.which("axe")
    if found and os.access(found, os.X_OK):
        return found
    return None


async def test_axe_core_finds_no_accessibility_violations(rig: WebRig, tmp_path: Path):
    axe = _axe()
    if axe is None or not HAVE_CHROMEDRIVER:
        pytest.skip(
            "needs @axe-core/cli (npm install -g --ignore-scripts @axe-core/cli) and Debian's "
            "chromium-driver at /usr/bin/chromedriver"
        )
    process = await asyncio.create_subprocess_exec(
        axe,
        f"{rig.base}/",
        "--chromedriver-path", str(CHROMEDRIVER),
        "--chrome-path", str(CHROMIUM),
        "--chrome-options", "no-sandbox,headless,disable-gpu,window-size=390,844",
        "--stdout",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    try:
        async with asyncio.timeout(120):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    [result] = json.loads(out)
    assert result["url"].startswith(rig.base)
    assert result["passes"], "axe ran no checks"
    found = {v["id"]: [n["target"] for n in v["nodes"]] for v in result["violations"]}
    assert found == {}


def _distinct_colours(png: bytes) -> int:
    """How many distinct bytes the image data holds (enough to tell a blank page from a page)."""
    chunks, pos = [], 8
    while pos < len(png):
        length = struct.unpack(">I", png[pos : pos + 4])[0]
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            chunks.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return len(set(zlib.decompress(b"".join(chunks))))
