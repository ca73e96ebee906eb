"""Board files parsed once per content (issue 16 start-up): simcore.board keeps the parsed TOML in the cache
directory, keyed by the file's SHA-256, so a warm start-up neither imports nor runs the TOML parser."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from simcore import board as board_mod
from simcore.board import BOARD_DIR, load_board
from simcore.errors import BadInputError
from tests.conftest import ROOT


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("path", sorted(BOARD_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_cached_parse_equals_tomllib(path: Path, cache: Path) -> None:
    text = path.read_text()
    expected = tomllib.loads(text)
    assert board_mod._parse(text, path) == expected  # parsed, and kept
    assert len(list((cache / "boards").glob("*.marshal"))) == 1
    assert board_mod._parse(text, path) == expected  # from the cache


def test_an_edited_board_file_is_parsed_again(tmp_path: Path, cache: Path) -> None:
    src = tmp_path / "my_board.toml"
    src.write_text('extends = "stm32f407vg"\nname = "mine"\n[clock]\ndefault_mhz = 16\n')
    assert load_board(src).default_mhz == 16
    src.write_text('extends = "stm32f407vg"\nname = "mine"\n[clock]\ndefault_mhz = 48\n')  # same size: content counts
    assert load_board(src).default_mhz == 48


def test_invalid_toml_is_still_refused_with_its_path(tmp_path: Path, cache: Path) -> None:
    src = tmp_path / "bad.toml"
    src.write_text("name = \n")
    with pytest.raises(BadInputError, match=f"board file {src} is not valid TOML"):
        load_board(src)


def test_warm_start_up_does_not_load_the_toml_parser(cache: Path) -> None:
    probe = ("import sys, simcore.api as sc\n"
             "sc.prepare(sys.argv[1], sys.argv[2], max_instructions=1)\n"
             "print('tomllib' in sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SIMCORE_CACHE_DIR=str(cache))
    args = [sys.executable, "-c", probe, str(ROOT / "firmware" / "bin" / "stm32f4-discovery" / "hello.elf"),
            "stm32f4-discovery"]
    first = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    again = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split() == ["True"]  # cold: parsed (and kept)
    assert again.stdout.split() == ["False"]  # warm: the three files of the extends chain came from the cache
