"""Does the firmware fit the part? Per-memory and per-section use, and a clear refusal if not."""

from __future__ import annotations

from dataclasses import dataclass

from simcore.board import Board, Memory
from simcore.elf import Firmware, Section, check_overlaps
from simcore.errors import BadInputError

# Stack symbols, in order of preference (CMSIS / GNU Arm conventions; documented in the README).
STACK_TOP_SYMBOLS = ("__StackTop", "_estack", "__stack", "__initial_sp")
STACK_LIMIT_SYMBOLS = ("__StackLimit", "__stack_limit", "_sstack")


def human(n: int) -> str:
    """Bytes as a short human figure: 512 B, 12.5 KiB, 1.00 MiB."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.2f} MiB"


@dataclass(frozen=True)
class Placement:
    """Where one section sits: the memory holding its bytes in the image and where it runs."""

    section: Section
    load_memory: str | None  # memory of the LMA for progbits sections (image bytes)
    run_memory: str | None  # memory of the VMA


@dataclass(frozen=True)
class RegionUse:
    memory: Memory
    used: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.memory.size if self.memory.size else 0.0


@dataclass(frozen=True)
class Layout:
    regions: tuple[RegionUse, ...]
    placements: tuple[Placement, ...]
    stack_top: int | None
    stack_limit: int | None

    def region(self, name: str) -> RegionUse:
        return next(r for r in self.regions if r.memory.name == name)

    def to_dict(self) -> dict[str, object]:
        return {
            "regions": [
                {"name": r.memory.name, "kind": r.memory.kind, "base": r.memory.base, "size": r.memory.size,
                 "used": r.used, "percent": round(r.percent, 2)}
                for r in self.regions
            ],
            "sections": [
                {"name": p.section.name, "vma": p.section.vma, "lma": p.section.lma, "size": p.section.size,
                 "load_memory": p.load_memory, "run_memory": p.run_memory}
                for p in self.placements
            ],
            "stack_top": self.stack_top,
            "stack_limit": self.stack_limit,
        }


def _memory_for(board: Board, addr: int, size: int) -> Memory | None:
    return board.memory_at(board.resolve_alias(addr), max(size, 1))


def _overflow_error(board: Board, fw: Firmware, mem: Memory, offenders: list[Section], what: str) -> BadInputError:
    top = max(s.lma + s.size if what == "image" else s.vma + s.size for s in offenders)
    top = board.resolve_alias(top)
    over = top - mem.end
    names = ", ".join(f"{s.name} ({human(s.size)} at {(s.lma if what == 'image' else s.vma):#010x})"
                      for s in offenders)
    role = "the image" if what == "image" else "the firmware's RAM contents (.data + .bss + stack/heap sections)"
    return BadInputError(
        f"{fw.path}: firmware does not fit {board.name}: {role} end at {top:#010x}, {human(over)} "
        f"({over} bytes) beyond the end of {mem.kind} '{mem.name}' ({human(mem.size)} at "
        f"{mem.base:#010x}-{mem.end:#010x}). Sections past the end: {names}. Build for a larger part or "
        "shrink the firmware (simcore size shows where the bytes go)."
    )


def check_fit(fw: Firmware, board: Board) -> Layout:
    """Place every section in the board's memories; raise BadInputError if something does not fit."""
    used = {m.name: 0 for m in board.memories}
    placements: list[Placement] = []
    for sec in fw.sections:
        load_mem = None
        if sec.kind == "progbits":
            load_mem = _memory_for(board, sec.lma, sec.size)
            if load_mem is None:
                _raise_outside(board, fw, sec, sec.lma, "image")
            used[load_mem.name] += sec.size
        run_mem = _memory_for(board, sec.vma, sec.size)
        if run_mem is None:
            _raise_outside(board, fw, sec, sec.vma, "run")
        assert run_mem is not None
        if load_mem is None or run_mem.name != load_mem.name:
            used[run_mem.name] += sec.size
        placements.append(Placement(sec, load_mem.name if load_mem else None, run_mem.name))
    _check_segments(fw, board)
    top = next((s.addr for n in STACK_TOP_SYMBOLS if (s := fw.symbol(n)) is not None), None)
    limit = next((s.addr for n in STACK_LIMIT_SYMBOLS if (s := fw.symbol(n)) is not None), None)
    return Layout(
        regions=tuple(RegionUse(m, used[m.name]) for m in board.memories),
        placements=tuple(placements),
        stack_top=top,
        stack_limit=limit,
    )


def _check_segments(fw: Firmware, board: Board) -> None:
    """Every PT_LOAD segment inside one memory, where it is loaded and where it runs.

    Sections give the friendlier report above; this holds also when an ELF has no section
    headers or its sections disagree with its segments (what the machine loads are segments).
    """
    regions = "; ".join(f"{m.name} {m.base:#010x}-{m.end:#010x}" for m in board.memories)
    check_overlaps(fw.path, fw.segments, board.resolve_alias)
    for n, seg in enumerate(fw.segments):
        for addr, size, what in ((seg.paddr, len(seg.data), "loaded"), (seg.vaddr, seg.memsz, "run")):
            if size == 0 or _memory_for(board, addr, size) is not None:
                continue
            start = _memory_for(board, addr, 1)
            where = (f"{human(size)} ({size} bytes) at {addr:#010x}-{addr + size:#010x}")
            if start is not None:
                over = board.resolve_alias(addr) + size - start.end
                raise BadInputError(
                    f"{fw.path}: firmware does not fit {board.name}: loadable segment {n} ({what} part, "
                    f"{where}) ends {human(over)} ({over} bytes) beyond the end of {start.kind} '{start.name}' "
                    f"({human(start.size)} at {start.base:#010x}-{start.end:#010x}). Build for a larger part "
                    "or shrink the firmware (simcore size shows where the bytes go)."
                )
            raise BadInputError(
                f"{fw.path}: loadable segment {n} ({what} part, {where}) is outside every memory of "
                f"{board.name} ({regions}). The firmware was linked for a different memory map: build it "
                f"for {board.name} or choose the board it was built for."
            )


def _raise_outside(board: Board, fw: Firmware, sec: Section, addr: int, what: str) -> None:
    start_mem = _memory_for(board, addr, 1)
    if start_mem is not None:
        offenders = [
            s for s in fw.sections
            if (s.kind == "progbits" or what == "run")
            and (start_mem.contains(board.resolve_alias(s.lma if what == "image" else s.vma)))
            and board.resolve_alias((s.lma if what == "image" else s.vma) + s.size) > start_mem.end
        ]
        raise _overflow_error(board, fw, start_mem, offenders or [sec], what)
    where = "is loaded at" if what == "image" else "runs at"
    regions = "; ".join(f"{m.name} {m.base:#010x}-{m.end:#010x}" for m in board.memories)
    raise BadInputError(
        f"{fw.path}: section {sec.name} ({human(sec.size)}) {where} {addr:#010x}, outside every memory of "
        f"{board.name} ({regions}). The firmware was linked for a different memory map: build it for "
        f"{board.name} or choose the board it was built for."
    )
