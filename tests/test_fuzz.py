"""The fuzzer in CI (issue 11, item 7): a fixed, seeded budget of mutated ELFs, board files,
sensor recordings, semihosting calls and .tflite models; zero internal errors, zero tracebacks,
zero runs over their time limit. Inputs that once failed are replayed from tests/fuzz_regressions/.
The long run is benchmarks/fuzz.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from simcore import fuzz

REGRESSIONS = sorted(p for p in (Path(__file__).parent / "fuzz_regressions").iterdir() if p.is_dir())
CI_SEED = 11
CI_CASES = {"elf": 80, "board": 60, "sensor": 50, "semihosting": 60, "tflite": 6}


def test_mutations_are_reproducible() -> None:
    a = [c.files for c in fuzz.elf_cases(5, 6)] + [c.argv for c in fuzz.semihosting_cases(5, 6)]
    b = [c.files for c in fuzz.elf_cases(5, 6)] + [c.argv for c in fuzz.semihosting_cases(5, 6)]
    assert a == b
    assert a[0] != [c.files for c in fuzz.elf_cases(6, 1)][0]  # another seed, another input


@pytest.mark.parametrize("case_dir", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_regression(case_dir: Path, tmp_path: Path) -> None:
    r = fuzz.run_case(fuzz.load_regression(case_dir), tmp_path)
    assert r.failure is None, f"{r.failure}\n{r.stderr}"


@pytest.mark.parametrize("target", list(CI_CASES))
def test_fuzz_budget(target: str, tmp_path: Path) -> None:
    report = fuzz.fuzz(CI_SEED, {target: CI_CASES[target]}, tmp_path)
    assert len(report.results) == CI_CASES[target]
    assert not report.failures, report.summary()
    statuses = {r.status for r in report.results}
    assert 2 in statuses or target in ("semihosting", "tflite")  # the mutations do reach the checks
