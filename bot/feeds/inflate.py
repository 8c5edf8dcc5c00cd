"""Bounded decoding of a response body's Content-Encoding: a compression bomb cannot blow up memory.

httpx inflates each network chunk whole, so a 64 KB chunk of a gzip bomb becomes ~64 MB before
any cap can look at it. `Inflater` is fed the raw bytes and never produces more than the cap plus
one byte (the byte that proves the body too big), asking zlib for at most `step` bytes at a time
and keeping the unconsumed input (`unconsumed_tail`) for the next turn.

Codings: identity, gzip (also x-gzip; several concatenated members are one body, as RFC 1952
allows), and deflate, which RFC 9110 defines as zlib-wrapped but some servers send raw: the
first two bytes decide, as browsers do. Brotli and zstd are not decoded (Python's brotli has no
output limit), so the fetcher does not advertise them (`ACCEPT_ENCODING`). Stacked codings
("gzip, gzip") are refused. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import zlib

ACCEPT_ENCODING = "gzip, deflate"
STEP = 64 * 1024  # the most output produced by one zlib call


class InflateError(Exception):
    """The body cannot be decoded: an unsupported coding or a corrupt or truncated stream."""


class TooLarge(Exception):
    """The decoded body would exceed the cap."""


def _codings(header: str | None) -> list[str]:
    names = [c.strip().lower() for c in (header or "").split(",")]
    return [c for c in names if c and c != "identity"]


class Inflater:
    """Decodes one body, fed in pieces; `feed` and `finish` return the next decoded bytes."""

    def __init__(self, content_encoding: str | None, max_bytes: int, step: int = STEP) -> None:
        codings = _codings(content_encoding)
        if len(codings) > 1:
            raise InflateError(f"stacked Content-Encoding {content_encoding!r} is not supported")
        coding = codings[0] if codings else "identity"
        if coding == "x-gzip":
            coding = "gzip"
        if coding not in ("identity", "gzip", "deflate"):
            raise InflateError(f"unsupported Content-Encoding {coding!r}")
        self.coding = coding
        self._max = max_bytes
        self._step = step
        self._size = 0
        self._pending = b""  # deflate: bytes held until the first two show which kind it is
        self._zlib: zlib._Decompress | None = None
        if coding == "gzip":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)

    @property
    def size(self) -> int:
        """Decoded bytes produced so far."""
        return self._size

    def feed(self, data: bytes) -> bytes:
        """Decode the next raw piece; raises `TooLarge` past the cap, `InflateError` if corrupt."""
        if self.coding == "identity":
            return self._count(data)
        if self._zlib is None:  # deflate, kind not known yet
            self._pending += data
            if len(self._pending) < 2:
                return b""
            self._zlib = zlib.decompressobj(_deflate_wbits(self._pending))
            data, self._pending = self._pending, b""
        return self._run(data, more=False)

    def _run(self, data: bytes, *, more: bool) -> bytes:
        # `more`: the last call filled its limit, so zlib may hold output even without input.
        out: list[bytes] = []
        while data or more:
            z = self._zlib
            assert z is not None  # noqa: S101 (set before any compressed byte arrives)
            if z.eof:
                data, more = self._after_end(data), False
                continue
            limit = min(self._step, self._max - self._size + 1)
            try:
                piece = z.decompress(data, limit)
            except zlib.error as exc:
                raise InflateError(f"corrupt {self.coding} body: {exc}") from exc
            out.append(self._count(piece))
            more = len(piece) == limit
            data = z.unused_data if z.eof else z.unconsumed_tail
        return b"".join(out)

    def finish(self) -> bytes:
        """The body ended: anything left; `InflateError` if the compressed stream was cut short."""
        if self.coding == "identity":
            return b""
        if self._zlib is None:
            if self._pending:
                raise InflateError(f"{self.coding} body ends early")
            return b""  # an empty body
        rest = self._run(b"", more=True)
        if not self._zlib.eof:
            raise InflateError(f"{self.coding} body ends early")
        return rest

    def _after_end(self, data: bytes) -> bytes:
        # Another gzip member follows; anything after a deflate stream is ignored, as zlib does.
        if self.coding == "gzip" and data.lstrip(b"\x00"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            return data.lstrip(b"\x00")  # some servers pad members with zeros
        return b""

    def _count(self, piece: bytes) -> bytes:
        self._size += len(piece)
        if self._size > self._max:
            raise TooLarge(self._size)
        return piece


def _deflate_wbits(head: bytes) -> int:
    """zlib-wrapped (RFC 1950 header: method 8 and a check multiple of 31) or raw deflate."""
    cmf, flg = head[0], head[1]
    if cmf & 0x0F == 8 and cmf >> 4 <= 7 and ((cmf << 8) | flg) % 31 == 0:
        return zlib.MAX_WBITS
    return -zlib.MAX_WBITS
