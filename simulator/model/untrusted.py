"""The one front door for text from strangers: scenario, lever, comparison and
autosave files, and the command line's ``--set`` overrides.

Whatever is wrong with such text, what comes out of here is either plain data
(dicts, lists, strings, bounded numbers) or a :class:`ScenarioError` whose one
line names the file (or ``--set``), the dotted parameter, the value and what is
allowed. Other readers call :func:`read_toml_file` for a file and wrap their own
checks in :func:`refusing` so that a failure nobody foresaw still reaches the user
as that one line, never as a traceback.

What is refused here, and why:

- files over :data:`MAX_FILE_BYTES` (every valid scenario is far smaller, see
  :mod:`simulator.model.schema`'s caps), that are not UTF-8 (a UTF-8 byte order mark, as
  some Windows editors write, is accepted) or not TOML;
- whole numbers beyond :data:`MAX_INTEGER` (Python would otherwise refuse those
  over 4,300 digits with a traceback, and numpy cannot hold them);
- file names over :data:`MAX_NAME_BYTES` bytes, paths over :data:`MAX_PATH_BYTES`,
  and symbolic links that lead back to themselves;
- list indices that are not plain ASCII digits (``"²".isdigit()`` is true, yet
  ``int("²")`` fails) or longer than any list a scenario may hold.
"""

from __future__ import annotations

import contextlib
import errno
import re
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.model.errors import ScenarioError

#: Largest file read (scenario, lever, comparison, autosave).
MAX_FILE_BYTES = 1_000_000
#: Largest whole number a file or ``--set`` may hold (what numpy's int64 holds).
MAX_INTEGER = 2**63 - 1
#: Longest file name (one path component) and whole path, in UTF-8 bytes: what
#: common file systems allow, so that the refusal names the reference.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
#: Longest list index accepted in a dotted name (no list holds a million items).
MAX_INDEX_DIGITS = 6

_BOM = "\ufeff"
_LONG_DIGITS = re.compile(r"\d{4000,}")
_ASCII_DIGITS = re.compile(r"[0-9]+")


def read_toml_file(path: Path, *, origin: str | None = None) -> dict[str, Any]:
    """Read and parse one TOML file from a stranger. ``origin`` is how errors
    name it (by default the path)."""
    where = origin or str(path)
    return parse_toml(read_text(path, origin=where), origin=where)


def read_text(path: Path, *, origin: str | None = None) -> str:
    """The text of a file of at most :data:`MAX_FILE_BYTES` bytes, decoded from
    UTF-8 with an optional byte order mark."""
    where = origin or str(path)
    check_path(path, origin=where)
    try:
        info = path.stat()  # a symlink loop or a missing file is said as such
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError("is not a file", file=where)
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(describe_os_error(exc), file=where) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"file is {max(info.st_size, len(data)):,} bytes; scenario files are "
            f"limited to {MAX_FILE_BYTES:,} bytes",
            file=where,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"is not UTF-8 text at line {line} (is it a TOML file?)", file=where
        ) from None
    return text.removeprefix(_BOM)


def parse_toml(text: str, *, origin: str) -> dict[str, Any]:
    """Parse TOML text, refusing whole numbers beyond :data:`MAX_INTEGER`."""
    text = text.removeprefix(_BOM)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"is not valid TOML: {exc}", file=origin) from None
    except RecursionError:
        raise ScenarioError(
            "is not valid TOML: nested too deeply", file=origin
        ) from None
    except ValueError:
        # tomllib converts digits with int(), which refuses over 4,300 digits.
        found = _LONG_DIGITS.search(text)
        where = f" at line {text.count(chr(10), 0, found.start()) + 1}" if found else ""
        raise ScenarioError(
            f"holds a number of thousands of digits{where}; whole numbers are "
            f"limited to ±{MAX_INTEGER:,}",
            file=origin,
        ) from None
    try:
        check_numbers(raw, origin=origin)
    except ScenarioError as exc:
        line = line_of(text, exc.parameter or "")
        if line is not None:
            exc.name_line(line)
        raise
    return raw


def check_numbers(data: Any, *, origin: str, prefix: str = "") -> None:
    """Refuse whole numbers beyond :data:`MAX_INTEGER` anywhere in ``data``,
    naming the dotted key that holds it."""
    if isinstance(data, dict):
        for key, value in data.items():
            check_numbers(value, origin=origin, prefix=f"{prefix}{key}.")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            check_numbers(value, origin=origin, prefix=f"{prefix}{index}.")
    elif (
        isinstance(data, int) and not isinstance(data, bool) and abs(data) > MAX_INTEGER
    ):
        raise ScenarioError(
            f"is a whole number of {len(str(abs(data)))} digits; whole "
            f"numbers are limited to ±{MAX_INTEGER:,}",
            file=origin,
            parameter=prefix.rstrip(".") or None,
        )


def check_path(
    path: Path | str, *, origin: str | None = None, parameter: str | None = None
) -> None:
    """Refuse a path whose name or whole is longer than file systems allow, by
    name (the system's own error names neither the file nor the reference)."""
    text = str(path)
    if "\x00" in text:
        raise ScenarioError(
            "a file name cannot hold a NUL character",
            file=origin,
            parameter=parameter,
            value=text,
            has_value=True,
        )
    longest = max(
        (len(p.encode("utf-8", "replace")) for p in Path(text).parts), default=0
    )
    if (
        longest > MAX_NAME_BYTES
        or len(text.encode("utf-8", "replace")) > MAX_PATH_BYTES
    ):
        raise ScenarioError(
            f"is too long a file name (at most {MAX_NAME_BYTES} bytes a name, "
            f"{MAX_PATH_BYTES} a path)",
            file=origin,
            parameter=parameter,
            value=text,
            has_value=True,
        )


def resolved(
    path: Path,
    *,
    origin: str | None = None,
    parameter: str | None = None,
    shown: str | None = None,
) -> Path:
    """``path.resolve()``, with a loop of symbolic links or an unreadable
    folder refused in one line (naming ``shown``, the reference as written)."""
    check_path(path, origin=origin, parameter=parameter)
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11-3.12: a symlink loop
        problem = "leads into a loop of symbolic links"
    except OSError as exc:
        problem = describe_os_error(exc)
    raise ScenarioError(
        problem,
        file=origin,
        parameter=parameter,
        value=shown if shown is not None else str(path),
        has_value=parameter is not None,
    )


def describe_os_error(exc: OSError) -> str:
    """What went wrong with a file, in words (without the path, which the
    message names already)."""
    if exc.errno == errno.ELOOP:
        return "leads into a loop of symbolic links"
    if exc.errno == errno.ENAMETOOLONG:
        return "is too long a file name"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read (permission denied)"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    return f"cannot be read ({exc.strerror or exc})"


def list_index(part: str) -> int | None:
    """The list index a dotted name's part gives, or ``None`` when the part is
    not one: only ASCII digits, at most :data:`MAX_INDEX_DIGITS` of them."""
    if len(part) <= MAX_INDEX_DIGITS and _ASCII_DIGITS.fullmatch(part):
        return int(part)
    return None


def whole_number(text: str) -> int:
    """A whole number written in ASCII digits (a command-line option's value);
    ``ValueError`` otherwise. ``int()`` alone accepts any script's digits,
    underscores and more than int64 holds."""
    stripped = text.strip()
    body = stripped.removeprefix("-").removeprefix("+")
    if not _ASCII_DIGITS.fullmatch(body) or len(body) > 19:
        raise ValueError(text)
    value = int(stripped)
    if abs(value) > MAX_INTEGER:
        raise ValueError(text)
    return value


@contextlib.contextmanager
def refusing(origin: str, *, what: str = "cannot be used") -> Iterator[None]:
    """Turn any failure of reading untrusted input inside the block into a
    one-line :class:`ScenarioError` naming ``origin``: a failure nobody foresaw
    must still reach the user as a message, never as a traceback."""
    try:
        yield
    except ScenarioError:
        raise
    except MemoryError:
        raise ScenarioError(f"{what}: too large to read", file=origin) from None
    except RecursionError:
        raise ScenarioError(f"{what}: nested too deeply", file=origin) from None
    except OSError as exc:
        raise ScenarioError(describe_os_error(exc), file=origin) from None
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        RuntimeError,
        OverflowError,
    ) as exc:
        detail = str(exc)
        if len(detail) > 120:
            detail = detail[:117] + "..."
        raise ScenarioError(f"{what} ({detail})", file=origin) from None


#: Runs x simulated weeks (warm-up included) a file may ask for without the
#: user's confirmation: about half a minute for a comparison of two scenarios
#: on a laptop (a million runs of 156 weeks took 210 s). A file from a stranger
#: must not start hours of computing, or ask for memory the machine lacks,
#: unasked.
RUN_WEEKS_BUDGET = 20_000_000


def run_budget_problem(runs: int, horizon_weeks: int, warmup_weeks: int) -> str | None:
    """Why these run settings need the user's confirmation (a phrase: "N runs
    of W weeks (...), beyond the budget ..."), or ``None``."""
    run_weeks = runs * (horizon_weeks + warmup_weeks)
    if run_weeks <= RUN_WEEKS_BUDGET:
        return None
    return (
        f"{runs:,} runs of {horizon_weeks + warmup_weeks:,} weeks "
        f"({run_weeks:,} run-weeks), beyond the budget of {RUN_WEEKS_BUDGET:,} "
        "run-weeks a file may ask for unconfirmed"
    )


_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED_KEY = rf"{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED_KEY})\s*\]\]?\s*(?:#.*)?$")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED_KEY})\s*=")
_KEY_PART = re.compile(_BARE_OR_QUOTED)


def _key_parts(text: str) -> list[str]:
    parts = []
    for match in _KEY_PART.finditer(text):
        part = match.group()
        if part[0] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return parts


def key_lines(text: str) -> dict[str, int]:
    """The line where each key of a TOML text is set, by dotted name (items of
    an array of tables by index: ``marketing.sources.1.share``). tomllib gives
    no positions; this reads the text line by line, the way TOML is written by
    people, and may miss keys written in unusual ways (then no line is named)."""
    lines: dict[str, int] = {}
    table: list[str] = []
    arrays: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            parts = _key_parts(header.group(2))
            if header.group(1) == "[[":
                path = ".".join(parts)
                arrays[path] = arrays.get(path, -1) + 1
                parts = [*parts, str(arrays[path])]
            table = parts
            lines.setdefault(".".join(table), number)
            continue
        key = _KEY_LINE.match(line)
        if key:
            lines.setdefault(".".join([*table, *_key_parts(key.group(1))]), number)
    return lines


def line_of(text: str, dotted: str) -> int | None:
    """The line of ``text`` that sets ``dotted``, or holds it (an inline table,
    a list), or the first that sets something inside it (a whole table)."""
    lines = key_lines(text)
    # A range may be declared in [uncertainty], a lever's values are in [set],
    # both keyed by the whole dotted name.
    for table in ("", "uncertainty.", "set."):
        if table + dotted in lines:
            return lines[table + dotted]
    parts = dotted.split(".")
    for end in range(len(parts) - 1, 0, -1):
        found = lines.get(".".join(parts[:end]))
        if found is not None:
            return found
    for table in ("", "set."):
        inside = [n for key, n in lines.items() if key.startswith(f"{table}{dotted}.")]
        if inside:
            return min(inside)
    return None
