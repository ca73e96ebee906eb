"""GDB remote serial protocol framing: ``$payload#checksum``, ``}`` escapes, acks and run-length replies.

Reference: the GDB manual, appendix E "GDB Remote Serial Protocol" (E.1 Overview: packet
format, escaping of ``#$}*`` with ``}`` and XOR 0x20, ``+``/``-`` acknowledgments, the
interrupt byte 0x03 sent outside packets).
"""

from __future__ import annotations

from collections.abc import Iterator

INTERRUPT = 0x03


def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFF


def escape(payload: bytes) -> bytes:
    """Escape the bytes the protocol reserves (E.1: ``#``, ``$``, ``}`` and ``*``)."""
    out = bytearray()
    for b in payload:
        if b in b"#$}*":
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(payload: bytes) -> bytes:
    out = bytearray()
    it = iter(payload)
    for b in it:
        if b == 0x7D:
            out.append(next(it, 0) ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    body = escape(payload)
    return b"$" + body + b"#" + f"{checksum(body):02x}".encode()


class PacketParser:
    """Feed raw bytes; iterate over what they complete: packets, interrupts and acks.

    Yields ``("packet", payload)`` (unescaped; ``bad`` is True when the checksum failed),
    ``("interrupt", b"")`` for a 0x03 outside a packet and ``("ack", b"+")`` / ``("nak", b"-")``.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[str, bytes, bool]]:
        self._buf += data
        buf = self._buf
        while buf:
            c = buf[0]
            if c == INTERRUPT:
                del buf[0]
                yield "interrupt", b"", False
                continue
            if c in b"+-":
                del buf[0]
                yield ("ack" if c == ord("+") else "nak"), bytes((c,)), False
                continue
            if c != ord("$"):
                del buf[0]  # noise between packets
                continue
            end = buf.find(b"#")
            if end < 0 or len(buf) < end + 3:
                return  # incomplete
            body = bytes(buf[1:end])
            try:
                good = int(buf[end + 1 : end + 3], 16) == checksum(body)
            except ValueError:
                good = False
            del buf[: end + 3]
            yield "packet", unescape(body), not good


def hex_encode(data: bytes) -> bytes:
    return data.hex().encode()


def hex_decode(text: bytes | str) -> bytes:
    return bytes.fromhex(text.decode() if isinstance(text, bytes) else text)
