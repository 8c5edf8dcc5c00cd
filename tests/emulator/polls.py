"""One getUpdates at a time, as Telegram allows it: a newer request terminates the pending one.

Telegram holds one long poll per bot. When a getUpdates arrives while another is still pending,
the pending (older) request is answered at once with 409 `CONFLICT` and the newer one proceeds;
each such termination is a `PollConflict`, which tests read as `TelegramEmulator.conflicts`.

A request whose client has gone away (a process killed with `kill -9`: the kernel closes its
sockets) is not pending: the HTTP handler's `on_connection_close` marks its `Client` closed, so a
successor's first poll is no conflict. Tornado notices a close while a handler waits, because it
watches an idle connection for reads (`IOStream._maybe_add_error_listener`).

`Polls` is bookkeeping only; the emulator calls it with its lock held and does the waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass(slots=True)
class Client:
    """The client side of one HTTP request; `closed` once the client went away."""

    closed: bool = False


@dataclass(slots=True)
class Poll:
    """One getUpdates request being answered."""

    client: Client
    since: float  # time.monotonic() when it arrived
    terminated: bool = False  # a newer getUpdates took over: answer 409


@dataclass(frozen=True, slots=True)
class PollConflict:
    """A pending getUpdates terminated with 409 by a newer one."""

    at: float  # time.monotonic() when the newer request arrived
    pending_since: float  # when the terminated request had arrived


@dataclass(slots=True)
class Polls:
    """The getUpdates requests in progress, and the conflicts between them."""

    pending: list[Poll] = field(default_factory=list)
    conflicts: list[PollConflict] = field(default_factory=list)

    def begin(self, client: Client, now: float) -> Poll:
        """A new getUpdates: every live pending one is terminated (one conflict each)."""
        for older in self.pending:
            if not older.terminated and not older.client.closed:
                older.terminated = True
                self.conflicts.append(PollConflict(at=now, pending_since=older.since))
        poll = Poll(client, since=now)
        self.pending.append(poll)
        return poll

    def end(self, poll: Poll) -> None:
        """The request was answered (or its client is gone and it stopped waiting)."""
        self.pending.remove(poll)

    def live(self) -> int:
        """How many getUpdates are held open for a client still connected."""
        return sum(1 for p in self.pending if not p.terminated and not p.client.closed)
