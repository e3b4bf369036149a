"""Every hostile input in the corpus gets exit code 2 and one readable line on stderr naming the
offending input, with no traceback, and leaves every existing run, cache and input file as it
was (no new run directory either). The real CLI runs in-process."""
from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ..helpers import assert_one_error
from .cases import CASES, by_id, case_ids
from .world import World, build_world, snapshot


def test_corpus_size_and_spread() -> None:
    assert len(CASES) >= 40 and len(set(case_ids())) == len(CASES)
    apps = Counter(c.id.split("/")[0].split("-")[0] for c in CASES)
    assert min(apps[a] for a in ("image", "text", "ts")) >= 10, apps
    kinds = Counter(c.id.split("/")[0] for c in CASES)
    for kind in ("image-cv", "image-compare", "text-cv", "text-compare", "ts-cv", "ts-compare"):
        assert kinds[kind] >= 1, kind


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once; each case gets a fresh copy."""
    return build_world(tmp_path_factory.mktemp("template") / "world").root


@pytest.mark.parametrize("case_id", case_ids())
def test_hostile_input(case_id: str, template: Path, cli: Any, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    case = by_id(case_id)
    world = World(Path(shutil.copytree(template, tmp_path / "world", symlinks=True)))
    monkeypatch.setenv("REGAPPS_DATA", str(world.cache))
    monkeypatch.chdir(world.root)  # a stray default ./runs would land in the snapshot
    if case.patch is not None:
        case.patch(monkeypatch)
    with case.within(world) if case.within is not None else contextlib.nullcontext():
        before = snapshot(world.root)
        result = cli(*case.argv(world))
        assert_one_error(result, *case.needles)
        assert snapshot(world.root) == before
