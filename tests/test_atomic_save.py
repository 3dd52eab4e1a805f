"""An interrupted save leaves the old file intact and no temporary file behind."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from simulator.model import scenario_io
from simulator.model.scenario_io import load_scenario, save_scenario, write_atomic

OLD = 'schema_version = 1\nname = "Old"\nextends = "siloed"\n'


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(OLD, encoding="utf-8")
    return path


@pytest.fixture
def scenario():
    return load_scenario("aligned")


def _left_over(folder):
    return sorted(p.name for p in folder.iterdir() if p.name != "mine.toml")


def test_save_replaces_the_file(target, scenario):
    save_scenario(scenario, target)
    assert load_scenario(target) == scenario
    assert _left_over(target.parent) == []


def test_rename_fails(target, scenario, monkeypatch):
    def broken(src, dst):
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk went away"):
        save_scenario(scenario, target)
    assert target.read_text(encoding="utf-8") == OLD
    assert _left_over(target.parent) == []


class _HalfWriter(io.TextIOWrapper):
    """Writes half of what it is given, then fails like a full disk."""

    def write(self, text: str) -> int:
        super().write(text[: len(text) // 2])
        super().flush()
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_write_fails_midway(target, scenario, monkeypatch, error):
    real_fdopen = os.fdopen

    def half_fdopen(fd, mode="r", **kwargs):
        handle = real_fdopen(fd, "wb")
        writer = _HalfWriter(handle, encoding="utf-8", newline="\n")
        if error is not OSError:

            def interrupted(text):
                io.TextIOWrapper.write(writer, text[: len(text) // 2])
                writer.flush()
                raise error()

            writer.write = interrupted  # type: ignore[method-assign]
        return writer

    monkeypatch.setattr(os, "fdopen", half_fdopen)
    with pytest.raises(error):
        save_scenario(scenario, target)
    assert target.read_text(encoding="utf-8") == OLD
    assert _left_over(target.parent) == []


def test_flush_to_disk_fails(target, scenario, monkeypatch):
    def broken(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        save_scenario(scenario, target)
    assert target.read_text(encoding="utf-8") == OLD
    assert _left_over(target.parent) == []


def test_failed_first_save_creates_nothing(tmp_path, scenario, monkeypatch):
    monkeypatch.setattr(os, "replace", lambda s, d: (_ for _ in ()).throw(OSError()))
    new = tmp_path / "new.toml"
    with pytest.raises(OSError):
        save_scenario(scenario, new)
    assert list(tmp_path.iterdir()) == []


def test_rendering_fails_before_anything_is_written(target, scenario, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("cannot render")

    monkeypatch.setattr(scenario_io, "scenario_to_toml", broken)
    with pytest.raises(ValueError):
        save_scenario(scenario, target)
    assert target.read_text(encoding="utf-8") == OLD
    assert _left_over(target.parent) == []


def test_write_atomic_keeps_the_old_text_until_the_rename(target, monkeypatch):
    seen = []
    real_replace = os.replace

    def watching(src, dst):
        seen.append(Path(dst).read_text(encoding="utf-8"))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watching)
    write_atomic(target, "name = 'New'\n")
    assert seen == [OLD]
    assert target.read_text(encoding="utf-8") == "name = 'New'\n"
    assert _left_over(target.parent) == []
