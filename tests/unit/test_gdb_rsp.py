"""simcore.gdb.rsp and tdesc: packet framing and the M-profile target description."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from simcore.errors import BadInputError
from simcore.gdb import rsp
from simcore.gdb.server import parse_address
from simcore.gdb.tdesc import registers, target_xml


def test_frame_escapes_and_checksums():
    assert rsp.frame(b"OK") == b"$OK#9a"  # GDB manual E.1: 'O' + 'K' = 0x9a
    framed = rsp.frame(b"a#b$c}d*")
    body = framed[1:-3]
    assert body == b"a}\x03b}\x04c}]d}\x0a" and rsp.unescape(body) == b"a#b$c}d*"


def test_parser_splits_packets_acks_and_interrupts():
    p = rsp.PacketParser()
    data = b"+$qSupported:xmlRegisters=arm#" + f"{rsp.checksum(b'qSupported:xmlRegisters=arm'):02x}".encode()
    out = list(p.feed(data[:10])) + list(p.feed(data[10:] + b"\x03$m0,4#fd$g#00"))
    assert out[0] == ("ack", b"+", False)
    assert out[1] == ("packet", b"qSupported:xmlRegisters=arm", False)
    assert out[2] == ("interrupt", b"", False)
    assert out[3] == ("packet", b"m0,4", False)
    assert out[4] == ("packet", b"g", True)  # bad checksum: to be NAKed


def test_target_description_is_m_profile_with_system_and_fpu_registers():
    root = ET.fromstring(target_xml(registers(fpu=True)))
    features = {f.get("name"): [r.get("name") for r in f] for f in root.iter("feature")}
    assert features["org.gnu.gdb.arm.m-profile"] == [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "xpsr"]
    assert features["org.gnu.gdb.arm.m-system"] == ["msp", "psp", "primask", "basepri", "faultmask", "control"]
    assert features["org.gnu.gdb.arm.vfp"] == [f"d{i}" for i in range(16)] + ["fpscr"]
    nums = [int(r.get("regnum")) for r in root.iter("reg")]
    assert nums == list(range(len(nums)))
    assert "org.gnu.gdb.arm.vfp" not in target_xml(registers(fpu=False))


@pytest.mark.parametrize("text,expected", [(":3333", ("127.0.0.1", 3333)), ("3333", ("127.0.0.1", 3333)),
                                           ("0.0.0.0:1234", ("0.0.0.0", 1234)), ("[::1]:0", ("::1", 0))])
def test_addresses_default_to_loopback(text, expected):
    assert parse_address(text) == expected


def test_bad_address_is_bad_input():
    with pytest.raises(BadInputError, match="PORT"):
        parse_address("localhost:http")
