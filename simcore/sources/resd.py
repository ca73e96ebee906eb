"""Renode Sensor Data (RESD) files: the binary format Renode's sensor models read.

Layout (renode-docs ``source/basic/resd.md``; renode-infrastructure
``src/Emulator/Main/Utilities/RESD``), all little-endian:

* file header: ``b"RESD"``, version (u8, 1), 3 zero bytes;
* blocks: block type (u8: 1 arbitrary timestamps, 2 constant frequency), sample type (u16),
  channel id (u16), data size (u64, the bytes after this field);
* block data: start time (u64 ns), for constant-frequency blocks a period (u64 ns), a metadata
  section (u64 size + entries), then the samples; in arbitrary-timestamp blocks each sample is
  preceded by its own u64 timestamp in ns, relative to the block's start time.

Values are turned into physical units: see :data:`SAMPLE_TYPES`. A file may hold several
channels; one (sample type, channel id) pair is read per source and its blocks are joined.
Files of the standard sample types are read with ``struct`` (the values made by numpy at their first
read); custom types, and any file the plain reader has a doubt about, go through :func:`parse_resd`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.sources.base import ArraySource, Deferred, bad, regular_rate

if TYPE_CHECKING:
    import numpy as np

BLOCK_ARBITRARY = 1
BLOCK_CONSTANT = 2


@dataclass(frozen=True)
class SampleType:
    """One RESD sample type: id, name, per-sample numpy fields and the scale to physical units."""

    id: int
    name: str
    dtype: str  # numpy dtype of one component
    channels: tuple[str, ...]
    scale: float  # physical value = raw * scale
    unit: str


# Sample types of renode-infrastructure RESDSample.cs (enum SampleType); units as documented there.
SAMPLE_TYPES: dict[int, SampleType] = {
    t.id: t
    for t in (
        SampleType(0x0001, "temperature", "<i4", ("temperature",), 1e-3, "degC"),
        SampleType(0x0002, "acceleration", "<i4", ("ax", "ay", "az"), 1e-6, "g"),
        SampleType(0x0003, "angular_rate", "<i4", ("gx", "gy", "gz"), 1e-5, "rad/s"),
        SampleType(0x0004, "voltage", "<u4", ("voltage",), 1e-6, "V"),
        SampleType(0x0005, "ecg", "<i4", ("ecg",), 1e-9, "V"),
        SampleType(0x0006, "humidity", "<u4", ("humidity",), 1e-3, "%RH"),
        SampleType(0x0007, "pressure", "<u8", ("pressure",), 1e-3, "Pa"),
        SampleType(0x0008, "magnetic_flux_density", "<i4", ("mx", "my", "mz"), 1e-3, "uT"),
        SampleType(0x000A, "illuminance", "<u4", ("illuminance",), 1e-3, "lx"),
    )
}
SAMPLE_TYPE_BY_NAME = {t.name: t for t in SAMPLE_TYPES.values()}
_SPECIAL = {0x0000: "reserved", 0x0009: "binary data (variable-length samples)"}


@dataclass(frozen=True)
class ResdBlock:
    """One parsed data block: its sample type, channel, sample times (ns) and raw values."""

    offset: int
    kind: int
    sample_type: SampleType
    channel: int
    times_ns: np.ndarray
    raw: np.ndarray  # (n, components)
    period_ns: int | None


def custom_sample_types(path: str | Path, spec: dict[Any, Any] | None) -> dict[int, SampleType]:
    """Decoders for Custom sample types (ids 0xF000-0xFFFF), given by the user.

    ``spec`` maps an id (int, or a string like "0xF001") to a table with ``name``, ``dtype``
    (numpy, e.g. "<u4"), ``channels`` (list of names), ``scale`` and ``unit``. This is how
    recordings of quantities Renode has no standard type for (heart rate, battery state of
    charge, trigger events, ...) are read.
    """
    import numpy as np

    out: dict[int, SampleType] = {}
    for key, table in (spec or {}).items():
        try:
            tid = int(key, 0) if isinstance(key, str) else int(key)
            st = SampleType(
                tid,
                str(table["name"]),
                str(np.dtype(table.get("dtype", "<i4")).str),
                tuple(str(c) for c in table.get("channels", [table["name"]])),
                float(table.get("scale", 1.0)),
                str(table.get("unit", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(path, f"custom sample type {key!r} is not described correctly ({exc})") from None
        if not 0xF000 <= tid <= 0xFFFF:
            raise bad(path, f"custom sample type id {tid:#x} is outside the Custom range 0xF000-0xFFFF")
        if np.dtype(st.dtype).kind not in "iuf":
            raise bad(path, f"custom sample type {tid:#x} has non-numeric dtype {st.dtype}")
        out[tid] = st
    return out


def parse_resd(path: str | Path, custom_types: dict[Any, Any] | None = None) -> list[ResdBlock]:
    """Every data block of a RESD file, validated; corrupt input raises BadInputError."""
    import numpy as np

    known = {**SAMPLE_TYPES, **custom_sample_types(path, custom_types)}
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise bad(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(blob) < 8 or blob[:4] != b"RESD":
        raise bad(path, f"is not a RESD file (expected magic 'RESD', found {blob[:4]!r})")
    if blob[4] != 1:
        raise bad(path, f"is RESD version {blob[4]}; only version 1 is supported")
    if blob[5:8] != b"\x00\x00\x00":
        raise bad(path, f"has non-zero padding {blob[5:8].hex()} in its header (corrupt file)")
    blocks: list[ResdBlock] = []
    pos = 8
    while pos < len(blob):
        if pos + 13 > len(blob):
            raise bad(path, f"is truncated: the block header at offset {pos} needs 13 bytes, {len(blob) - pos} remain")
        kind, stype, channel, size = struct.unpack_from("<BHHQ", blob, pos)
        start = pos + 13
        end = start + size
        where = f"block {len(blocks)} at offset {pos}"
        if end > len(blob):
            raise bad(path, f"is truncated: {where} declares {size} data bytes but only {len(blob) - start} remain")
        if kind not in (BLOCK_ARBITRARY, BLOCK_CONSTANT):
            raise bad(path, f"{where} has unknown block type {kind} (1 arbitrary timestamps, 2 constant frequency)")
        st = known.get(stype)
        if st is None:
            what = _SPECIAL.get(stype) or (
                "a custom type: describe it with the custom_types option"
                if stype >= 0xF000
                else "not a RESD sample type"
            )
            raise bad(
                path,
                f"{where} has sample type {stype:#06x} ({what}), which simcore cannot read; supported: "
                + ", ".join(f"{t.name} ({t.id:#x})" for t in known.values()),
            )
        sub = 16 if kind == BLOCK_CONSTANT else 8
        if size < sub + 8:
            raise bad(
                path, f"{where} has {size} data bytes, fewer than its {sub + 8}-byte sub-header and metadata size"
            )
        start_ns = struct.unpack_from("<Q", blob, start)[0]
        period = struct.unpack_from("<Q", blob, start + 8)[0] if kind == BLOCK_CONSTANT else None
        (meta_size,) = struct.unpack_from("<Q", blob, start + sub)
        samples_at = start + sub + 8 + meta_size
        if samples_at > end:
            raise bad(path, f"{where} declares {meta_size} metadata bytes, more than the block holds")
        comp = np.dtype(st.dtype)
        width = comp.itemsize * len(st.channels) + (8 if kind == BLOCK_ARBITRARY else 0)
        nbytes = end - samples_at
        if nbytes % width:
            raise bad(
                path,
                f"{where} ({st.name}, channel {channel}) has {nbytes} sample bytes, not a whole number of "
                f"{width}-byte samples (truncated or corrupt block)",
            )
        n = nbytes // width
        body = blob[samples_at:end]
        if kind == BLOCK_CONSTANT:
            if n > 1 and period == 0:
                raise bad(path, f"{where} holds {n} samples with a period of 0 ns")
            raw = np.frombuffer(body, dtype=comp).reshape(n, len(st.channels))
            times = start_ns + np.arange(n, dtype=np.uint64) * np.uint64(period or 0)
        else:
            rec = np.dtype([("t", "<u8"), ("v", comp, (len(st.channels),))])
            arr = np.frombuffer(body, dtype=rec)
            raw = arr["v"].reshape(n, len(st.channels))
            times = np.uint64(start_ns) + arr["t"]
            if n > 1 and (np.diff(times.astype(np.int64)) <= 0).any():
                i = int(np.argmax(np.diff(times.astype(np.int64)) <= 0)) + 1
                raise bad(path, f"{where}: sample {i} has timestamp {int(times[i])} ns, not after the one before")
        blocks.append(ResdBlock(pos, kind, st, channel, times.astype(np.int64), raw.copy(), period))
        pos = end
    if not blocks:
        raise bad(path, "holds no data blocks")
    return blocks


_PLAIN = ("<i4", "<u4", "<u8")  # the standard sample types' components (little-endian bytes, kept as read)
_SAFE = 1 << 62  # timestamps below this: numpy's uint64/int64 arithmetic on them cannot wrap


def _plain_blocks(blob: bytes) -> list[tuple[SampleType, int, list[int], bytes, int | None]] | None:
    """(sample type, channel, times in ns, raw little-endian values row-major, period) of every block of a RESD
    file of standard sample types, read with ``struct`` as :func:`parse_resd` reads it; None when the file has
    anything parse_resd would refuse, a custom type, or timestamps near 2^63 (then parse_resd decides)."""
    if len(blob) < 8 or blob[:4] != b"RESD" or blob[4] != 1 or blob[5:8] != b"\x00\x00\x00":
        return None
    out: list[tuple[SampleType, int, list[int], bytes, int | None]] = []
    pos = 8
    while pos < len(blob):
        if pos + 13 > len(blob):
            return None
        kind, stype, channel, size = struct.unpack_from("<BHHQ", blob, pos)
        start = pos + 13
        end = start + size
        st = SAMPLE_TYPES.get(stype)
        if end > len(blob) or kind not in (BLOCK_ARBITRARY, BLOCK_CONSTANT) or st is None or st.dtype not in _PLAIN:
            return None
        sub = 16 if kind == BLOCK_CONSTANT else 8
        if size < sub + 8:
            return None
        start_ns = struct.unpack_from("<Q", blob, start)[0]
        period = struct.unpack_from("<Q", blob, start + 8)[0] if kind == BLOCK_CONSTANT else None
        (meta_size,) = struct.unpack_from("<Q", blob, start + sub)
        samples_at = start + sub + 8 + meta_size
        if samples_at > end:
            return None
        nch = len(st.channels)
        comp = int(st.dtype[2:])
        width = comp * nch + (8 if kind == BLOCK_ARBITRARY else 0)
        nbytes = end - samples_at
        if nbytes % width:
            return None
        n = nbytes // width
        if kind == BLOCK_CONSTANT:
            if n > 1 and period == 0:
                return None
            assert period is not None
            if start_ns + n * period >= _SAFE:
                return None
            raw = bytes(blob[samples_at:end])
            times = [start_ns + k * period for k in range(n)]
        else:
            parts = []
            times = []
            for k in range(n):  # each sample: its u64 time relative to the block's start, then its components
                at = samples_at + k * width
                times.append(start_ns + struct.unpack_from("<Q", blob, at)[0])
                parts.append(blob[at + 8: at + width])
            raw = b"".join(parts)
            if any(t >= _SAFE for t in times) or any(b <= a for a, b in zip(times, times[1:], strict=False)):
                return None
        out.append((st, channel, times, raw, period))
        pos = end
    return out or None


def _read_plain(path: str | Path, sample_type: str | int | None, channel: int | None,
                end_rule: str) -> ArraySource | None:
    """:func:`read_resd` without numpy for files of standard types (the values made at the first read), or None
    when the numpy path must decide (custom types, anything it would refuse)."""
    try:
        blob = Path(path).read_bytes()
    except OSError:
        return None
    blocks = _plain_blocks(blob)
    if blocks is None:
        return None
    if isinstance(sample_type, str):
        st0 = SAMPLE_TYPE_BY_NAME.get(sample_type.lower())
        if st0 is None:
            return None
        sample_type = st0.id
    chosen = [b for b in blocks
              if (sample_type is None or b[0].id == sample_type) and (channel is None or b[1] == channel)]
    if not chosen or len({(b[0].id, b[1]) for b in chosen}) > 1:
        return None
    chosen.sort(key=lambda b: b[2][0] if b[2] else 0)  # stable, as the numpy path's sort
    times_ns = [t for b in chosen for t in b[2]]
    if not times_ns or any(b <= a for a, b in zip(times_ns, times_ns[1:], strict=False)):
        return None
    st = chosen[0][0]
    nch = len(st.channels)
    raws = [b[3] for b in chosen]

    def make() -> Any:
        import numpy as np

        flat = np.concatenate([np.frombuffer(r, dtype=st.dtype) for r in raws])
        return flat.reshape(-1, nch).astype(np.float64) * st.scale

    values = Deferred((len(times_ns), nch), "float64", make)
    times = [float(t) * 1e-9 for t in times_ns]
    units = (st.unit,) * nch
    periods = {b[4] for b in chosen}
    rate = None
    if periods and None not in periods and len(periods) == 1 and chosen[0][4]:
        rate = regular_rate(times)
    if rate is not None:
        return ArraySource(path, values, channels=st.channels, units=units, rate_hz=rate, start_s=times[0],
                           end_rule=end_rule)
    return ArraySource(path, values, channels=st.channels, units=units, times=times, end_rule=end_rule)


def read_resd(
    path: str | Path,
    *,
    sample_type: str | int | None = None,
    channel: int | None = None,
    custom_types: dict[Any, Any] | None = None,
    end_rule: str = "stop",
) -> ArraySource:
    """One channel of a RESD file as a source in physical units (e.g. acceleration in g)."""
    if not custom_types:
        plain = _read_plain(path, sample_type, channel, end_rule)
        if plain is not None:
            return plain
    import numpy as np

    blocks = parse_resd(path, custom_types)
    if isinstance(sample_type, str):
        by_name = {**SAMPLE_TYPE_BY_NAME, **{t.name: t for t in custom_sample_types(path, custom_types).values()}}
        st = by_name.get(sample_type.lower())
        if st is None:
            raise bad(path, f"unknown sample type {sample_type!r}; use one of {', '.join(by_name)}")
        sample_type = st.id
    chosen = [
        b
        for b in blocks
        if (sample_type is None or b.sample_type.id == sample_type) and (channel is None or b.channel == channel)
    ]
    pairs = sorted({(b.sample_type.name, b.channel) for b in blocks})
    listing = ", ".join(f"{n} channel {c}" for n, c in pairs)
    if not chosen:
        raise bad(path, f"has no blocks for the requested sample type/channel (it holds: {listing})")
    keys = {(b.sample_type.id, b.channel) for b in chosen}
    if len(keys) > 1:
        raise bad(path, f"holds several channels ({listing}); choose one with sample_type= and channel=")
    chosen.sort(key=lambda b: int(b.times_ns[0]) if len(b.times_ns) else 0)
    times_ns = np.concatenate([b.times_ns for b in chosen])
    if len(times_ns) == 0:
        raise bad(path, "its selected blocks hold no samples")
    if (np.diff(times_ns) <= 0).any():
        i = int(np.argmax(np.diff(times_ns) <= 0)) + 1
        raise bad(path, f"blocks overlap in time: sample {i} at {times_ns[i]} ns does not follow the previous one")
    st = chosen[0].sample_type
    values = np.concatenate([b.raw for b in chosen]).astype(np.float64) * st.scale
    times = times_ns.astype(np.float64) * 1e-9
    units = (st.unit,) * len(st.channels)
    periods = {b.period_ns for b in chosen}
    rate = None
    if periods and None not in periods and len(periods) == 1 and chosen[0].period_ns:
        rate = regular_rate(times)
    if rate is not None:
        return ArraySource(
            path, values, channels=st.channels, units=units, rate_hz=rate, start_s=float(times[0]), end_rule=end_rule
        )
    return ArraySource(path, values, channels=st.channels, units=units, times=times, end_rule=end_rule)


def write_resd(path: str | Path, blocks: list[dict[str, object]], custom_types: dict[Any, Any] | None = None) -> None:
    """Write a RESD v1 file (for tests and examples).

    Each block dict: ``sample_type`` (name), ``channel`` (int), ``raw`` ((n, components) ints)
    and either ``period_ns`` (+ ``start_ns``) for a constant-frequency block or ``times_ns``
    (relative to ``start_ns``) for an arbitrary-timestamp block.
    """
    import numpy as np

    out = bytearray(b"RESD\x01\x00\x00\x00")
    names = {**SAMPLE_TYPE_BY_NAME, **{t.name: t for t in custom_sample_types(path, custom_types).values()}}
    for blk in blocks:
        st = names[str(blk["sample_type"])]
        raw = np.asarray(blk["raw"]).reshape(-1, len(st.channels)).astype(st.dtype)
        start_ns = int(blk.get("start_ns", 0))  # type: ignore[call-overload]
        meta = struct.pack("<Q", 0)
        if "period_ns" in blk:
            kind = BLOCK_CONSTANT
            body = struct.pack("<QQ", start_ns, int(blk["period_ns"])) + meta + raw.tobytes()  # type: ignore[call-overload]
        else:
            kind = BLOCK_ARBITRARY
            rec = np.dtype([("t", "<u8"), ("v", st.dtype, (len(st.channels),))])
            arr = np.zeros(len(raw), dtype=rec)
            arr["t"] = np.asarray(blk["times_ns"], dtype=np.uint64)
            arr["v"] = raw
            body = struct.pack("<Q", start_ns) + meta + arr.tobytes()
        out += struct.pack("<BHHQ", kind, st.id, int(blk["channel"]), len(body)) + body  # type: ignore[call-overload]
    Path(path).write_bytes(bytes(out))
