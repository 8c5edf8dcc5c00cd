"""bot.telegram.pacing: per-chat spacing, group spacing, the overall window and pauses, on a fake clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.telegram.pacing import Limits, Pacer

EXACT = Limits(private_interval=1.0, group_interval=3.0, global_per_second=30)


def run(pacer: Pacer, chat_ids: list[int], start: float = 0.0) -> list[float]:
    """Send to each chat in order as soon as the pacer allows; the send times."""
    now, times = start, []
    for chat_id in chat_ids:
        while (wait := pacer.acquire(chat_id, now)) > 0:
            now += wait
        pacer.release(now)  # answered at once
        times.append(round(now, 6))
    return times


@pytest.mark.parametrize(
    ("limits", "chats", "expected"),
    [
        pytest.param(EXACT, [1, 1, 1], [0.0, 1.0, 2.0], id="private-one-per-second"),
        pytest.param(EXACT, [-5, -5, -5], [0.0, 3.0, 6.0], id="group-twenty-per-minute"),
        pytest.param(EXACT, [-100123, -100123], [0.0, 3.0], id="channel-like-a-group"),
        pytest.param(
            replace(EXACT, global_per_second=1000),
            [1, 2, 3, 1],
            [0.0, 0.0, 0.001, 1.0],
            id="chats-do-not-wait-for-each-other",
        ),
        pytest.param(
            Limits(global_per_second=10),
            [1, 2, 3, 4, 5],
            [0.0, 0.0, 0.1, 0.2, 0.3],
            id="overall-sends-are-spaced-after-a-burst-of-two",
        ),
        pytest.param(
            Limits(private_interval=1.0, group_interval=3.0, global_per_second=2),
            [1, 2, 3, 4],
            [0.0, 0.0, 1.0, 1.0],
            id="overall-window",
        ),
        pytest.param(
            Limits(private_interval=1.0, group_interval=3.0, global_per_second=30, scale=10),
            [1, 1, -2, -2],
            [0.0, 0.1, 0.1, 0.4],
            id="scale-runs-ten-times-faster",
        ),
    ],
)
def test_send_times_follow_the_limits(limits: Limits, chats: list[int], expected: list[float]):
    assert run(Pacer(limits), chats) == expected


def test_default_limits_stay_under_telegrams():
    limits = Limits()
    assert 1.0 < limits.private_interval < 1.1
    assert 3.0 < limits.group_interval < 3.3
    assert limits.global_per_second == 29


def test_no_second_of_a_long_run_exceeds_the_overall_limit():
    pacer = Pacer(Limits(global_per_second=29))
    times = run(pacer, list(range(1, 1001)))
    for i in range(len(times) - 29):
        assert times[i + 29] - times[i] >= 1.0 - 1e-6
    assert times[-1] == pytest.approx(1000 / 29, abs=1.0)  # but no slower than needed


def test_a_paused_chat_waits_and_the_others_do_not():
    pacer = Pacer(EXACT)
    assert pacer.acquire(1, 0.0) == 0.0
    pacer.release(0.0)
    pacer.pause(1, 5, 0.5)
    assert pacer.chat_wait(1, 0.5) == pytest.approx(5.0)
    assert pacer.acquire(1, 2.0) == pytest.approx(3.5)
    assert pacer.acquire(2, 2.0) == 0.0
    assert pacer.acquire(1, 5.5) == 0.0


def test_a_pause_is_scaled_and_never_shortens_pacing():
    pacer = Pacer(Limits(group_interval=3.0, scale=10))
    assert pacer.acquire(-1, 0.0) == 0.0
    pacer.pause(-1, 2, 0.0)  # 2 Telegram seconds = 0.2 s, but the group slot is 0.3 s away
    assert pacer.chat_wait(-1, 0.0) == pytest.approx(0.3)
    pacer.pause(-1, 10, 0.0)
    assert pacer.chat_wait(-1, 0.0) == pytest.approx(1.0)


def test_waiting_does_not_book_a_send():
    pacer = Pacer(EXACT)
    assert pacer.acquire(1, 0.0) == 0.0
    assert pacer.acquire(1, 0.5) == pytest.approx(0.5)
    assert pacer.acquire(1, 0.5) == pytest.approx(0.5)
    assert pacer.acquire(1, 1.0) == 0.0


def test_idle_chats_are_forgotten_without_losing_pacing_of_busy_ones():
    pacer = Pacer(EXACT)
    for chat_id in range(1, 5000):
        pacer.acquire(chat_id, chat_id * 0.04)
        pacer.release(chat_id * 0.04)
    assert pacer.acquire(4999, 200.0) > 0  # the newest is still paced
    assert len(pacer._ready) < 5000


@pytest.mark.parametrize(
    "kwargs",
    [{"private_interval": -1}, {"scale": 0}, {"global_per_second": 0}],
)
def test_invalid_limits_are_refused(kwargs):
    with pytest.raises(ValueError, match="must be"):
        Limits(**kwargs)


def test_sends_count_against_the_overall_limit_until_their_answer_is_a_window_old():
    pacer = Pacer(Limits(global_per_second=2))
    assert pacer.acquire(1, 0.0) == 0.0
    assert pacer.acquire(2, 0.0) == 0.0
    assert pacer.acquire(3, 0.2) > 0  # both still in flight
    pacer.release(0.3)  # answered late: Telegram may have counted it as late as this
    pacer.release(0.3)
    assert pacer.acquire(3, 1.0) == pytest.approx(0.3)
    assert pacer.acquire(3, 1.3) == 0.0
