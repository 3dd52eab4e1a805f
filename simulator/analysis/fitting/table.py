"""Reading a CRM export or funnel report: rows of text, the columns' roles, dates
and numbers.

Every problem is a :class:`FitError` naming the file, the column and what is
needed, so that ``funnelsim fit`` can show it as one line. Nothing read from a
file is executed or evaluated; cells are only matched against patterns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from simulator.model.errors import ScenarioError

#: Exports larger than this are refused (a few years of opportunities of a large
#: company are a few MB); filtering the export is the way out.
MAX_FILE_BYTES = 50_000_000
MAX_ROWS = 500_000

DateOrder = Literal["dayfirst", "monthfirst"]


class FitError(ScenarioError):
    """A data file that cannot be used: names the file, the column and the need."""

    def __init__(self, problem: str, *, file: str | Path, column: str | None = None):
        super().__init__(
            problem, file=file, parameter=f"column {column!r}" if column else None
        )


def normalise(header: str) -> str:
    """``"Close Date"``, ``"close_date"`` and ``"CloseDate"`` all read ``closedate``."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


@dataclass
class Table:
    """One file's header and rows (all text), with the roles found for columns."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    roles: dict[str, str] = field(default_factory=dict)  # role -> header

    @property
    def name(self) -> str:
        return self.path.name

    def column(self, header: str) -> list[str]:
        i = self.header.index(header)
        return [row[i] if i < len(row) else "" for row in self.rows]

    def role(self, role: str) -> list[str] | None:
        header = self.roles.get(role)
        return None if header is None else self.column(header)

    def error(self, problem: str, column: str | None = None) -> FitError:
        return FitError(problem, file=self.path, column=column)


# --------------------------------------------------------------------------- files


def read_table(path: str | Path) -> Table:
    """Read a CSV (any of , ; tab as delimiter; UTF-8, or Windows-1252 as Excel
    writes it) or an XLSX file's first sheet."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FitError(f"cannot read file ({exc.strerror or exc})", file=path) from None
    if not path.is_file():
        raise FitError("is not a file", file=path)
    if size > MAX_FILE_BYTES:
        raise FitError(
            f"file is {size:,} bytes; FunnelSim reads exports up to "
            f"{MAX_FILE_BYTES:,} bytes (export fewer years or fewer columns)",
            file=path,
        )
    if size == 0:
        raise FitError(
            "is empty: a header row and one row per record are needed", file=path
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(path)
    else:
        header, rows = _read_csv(path)
    header = [h.strip() for h in header]
    if not any(header):
        raise FitError("has no header row (column names are needed)", file=path)
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise FitError("has a header but no rows", file=path)
    if len(rows) > MAX_ROWS:
        raise FitError(
            f"has {len(rows):,} rows; FunnelSim reads up to {MAX_ROWS:,}", file=path
        )
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            raise FitError("the column name appears twice", file=path, column=h)
        seen.add(h)
    return Table(path, header, rows)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise FitError("is not a text (CSV) file", file=path)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise FitError("is not UTF-8 or Windows-1252 text", file=path)
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample, delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.reader(io.StringIO(text), dialect)
        header = next(reader, [])
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        raise FitError(f"is not a readable CSV file ({exc})", file=path) from None
    return header, rows


def _read_xlsx(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        import openpyxl
    except ImportError:
        raise FitError(
            "is an Excel file; reading it needs the openpyxl package "
            "(pip install openpyxl), or save it as CSV",
            file=path,
        ) from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FitError(f"is not a readable Excel file ({exc})", file=path) from None
    sheet = book.worksheets[0]
    cells: list[list[str]] = []
    for values in sheet.iter_rows(values_only=True):
        cells.append([_cell_text(v) for v in values])
        if len(cells) > MAX_ROWS + 1:
            break
    book.close()
    if not cells:
        raise FitError(
            "is empty: a header row and one row per record are needed", file=path
        )
    return cells[0], cells[1:]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- roles


def find_roles(
    table: Table,
    aliases: Mapping[str, Sequence[str]],
    overrides: Mapping[str, str],
) -> None:
    """Set ``table.roles`` from the ``--columns role=header`` overrides, then from
    the first alias of each role found among the headers (compared normalised)."""
    by_norm: dict[str, str] = {}
    for h in table.header:
        # Pipedrive writes "Deal - Value": the part after the object's name counts.
        for key in (normalise(h), normalise(h.rpartition(" - ")[2])):
            if h and key:
                by_norm.setdefault(key, h)
    taken: set[str] = set()
    for role, header in overrides.items():
        if role not in aliases:
            continue
        match = header if header in table.header else by_norm.get(normalise(header))
        if match is None:
            raise table.error(
                f"--columns {role}={header}: no such column (columns: "
                f"{', '.join(table.header)})",
            )
        table.roles[role] = match
        taken.add(match)
    for role, names in aliases.items():
        if role in table.roles:
            continue
        for name in names:
            found = by_norm.get(normalise(name))
            if found is not None and found not in taken:
                table.roles[role] = found
                taken.add(found)
                break


def parse_column_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["amount=Deal value"]`` -> ``{"amount": "Deal value"}``."""
    out: dict[str, str] = {}
    for item in items:
        role, sep, header = item.partition("=")
        if not sep or not role.strip() or not header.strip():
            raise ScenarioError(
                f"--columns {item!r}: expected ROLE=HEADER, e.g. amount='Deal value'"
            )
        out[role.strip().lower()] = header.strip()
    return out


# --------------------------------------------------------------------------- numbers

_CURRENCY = re.compile(r"[$€£¥₹\s\u00a0']|[A-Z]{3}")


def parse_number(text: str) -> float | None:
    """A number as exports write it (``12,345.50``, ``$12 345``, ``1.234,5``,
    ``12%``), or None for a blank cell. Raises ValueError for text."""
    s = text.strip()
    if not s or s in ("-", "—"):
        return None
    percent = s.endswith("%")
    s = _CURRENCY.sub("", s.rstrip("%"))
    negative = s.startswith("(") and s.endswith(")")
    s = s.strip("()")
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        parts = s.split(",")
        if len(parts) > 2 or (len(parts) == 2 and len(parts[1]) == 3):
            s = s.replace(",", "")  # thousands separators
        else:
            s = s.replace(",", ".")  # a decimal comma
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError(text)
    value = float(s)
    if negative:
        value = -value
    return value / 100 if percent else value


def numbers(table: Table, header: str, *, what: str) -> list[float | None]:
    """A column's numbers; text in it is an error naming the row and the value."""
    out: list[float | None] = []
    for i, cell in enumerate(table.column(header)):
        try:
            out.append(parse_number(cell))
        except ValueError:
            raise table.error(
                f"row {i + 2} holds {cell.strip()[:40]!r}; {what} must be a number",
                header,
            ) from None
    return out


# --------------------------------------------------------------------------- dates

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}
# An optional time after a date: 14:05, 14:05:09.123, 2:05 PM, with a zone.
_TIME = (
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"$")
_ISO_MONTH = re.compile(r"(\d{4})[-/.](\d{1,2})$")
_NUMERIC = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})" + _TIME + r"$")
_NAMED_DMY = re.compile(r"(\d{1,2})[ -]([A-Za-z]+)\.?[ -,]*(\d{4})" + _TIME + r"$")
_NAMED_MDY = re.compile(r"([A-Za-z]+)\.? (\d{1,2}),? (\d{4})" + _TIME + r"$")
_NAMED_MONTH = re.compile(r"([A-Za-z]+)\.?[ -](\d{4})$")


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if year < 100 else year


def _ambiguous_parts(text: str) -> tuple[int, int] | None:
    """The two leading numbers of a d/m/Y or m/d/Y date, else None."""
    m = _NUMERIC.match(text.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def detect_order(cells: Iterable[str]) -> DateOrder | Literal["both"] | None:
    """Day-first, month-first, None when every numeric date reads both ways (or
    there are none), or "both" when some dates are only day-first and others only
    month-first."""
    dayfirst = monthfirst = False
    for cell in cells:
        parts = _ambiguous_parts(cell)
        if parts is None:
            continue
        a, b = parts
        if a > 12 >= b:
            dayfirst = True
        elif b > 12 >= a:
            monthfirst = True
    if dayfirst and monthfirst:
        return "both"
    if dayfirst:
        return "dayfirst"
    if monthfirst:
        return "monthfirst"
    return None


def parse_date(text: str, order: DateOrder | None) -> dt.date | None:
    """One date, or None for a blank cell. Raises ValueError when it is not a date
    (or is d/m vs m/d ambiguous and ``order`` is None)."""
    s = text.strip()
    if not s:
        return None
    if m := _ISO.match(s):
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _ISO_MONTH.match(s):
        return dt.date(int(m.group(1)), int(m.group(2)), 1)
    if m := _NUMERIC.match(s):
        a, b, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        if order is None:
            if a > 12 >= b:
                order = "dayfirst"
            elif b > 12 >= a:
                order = "monthfirst"
            elif a == b:
                return dt.date(year, a, b)
            else:
                raise ValueError("ambiguous")
        day, month = (a, b) if order == "dayfirst" else (b, a)
        return dt.date(year, month, day)
    if m := _NAMED_DMY.match(s):
        return dt.date(int(m.group(3)), _month(m.group(2)), int(m.group(1)))
    if m := _NAMED_MDY.match(s):
        return dt.date(int(m.group(3)), _month(m.group(1)), int(m.group(2)))
    if m := _NAMED_MONTH.match(s):
        return dt.date(int(m.group(2)), _month(m.group(1)), 1)
    raise ValueError(s)


def _month(name: str) -> int:
    month = _MONTHS.get(name.lower())
    if month is None:
        raise ValueError(name)
    return month


def date_order(
    table: Table, headers: Sequence[str], given: DateOrder | None
) -> DateOrder | None:
    """The file's d/m order: as given, or detected from all its date columns. A
    file whose numeric dates read both ways asks for --dayfirst/--monthfirst."""
    if given is not None:
        return given
    cells = [c for h in headers for c in table.column(h)]
    found = detect_order(cells)
    if found == "both":
        raise table.error(
            "some dates are only valid day-first (31/01/2025) and others only "
            "month-first (01/31/2025); fix the export or pass --dayfirst or "
            "--monthfirst",
            headers[0] if len(headers) == 1 else None,
        )
    if found is None and any(_ambiguous_parts(c) for c in cells):
        raise table.error(
            "every date reads both as day/month and month/day (e.g. "
            f"{next(c for c in cells if _ambiguous_parts(c)).strip()!r}); "
            "pass --dayfirst or --monthfirst",
            headers[0] if len(headers) == 1 else None,
        )
    return found if found in ("dayfirst", "monthfirst") else None


def dates(
    table: Table, header: str, order: DateOrder | None, *, what: str
) -> list[dt.date | None]:
    out: list[dt.date | None] = []
    for i, cell in enumerate(table.column(header)):
        try:
            out.append(parse_date(cell, order))
        except ValueError:
            raise table.error(
                f"row {i + 2} holds {cell.strip()[:40]!r}; {what} must be a date "
                "(2025-03-31, 3/31/2025 or 31/03/2025)",
                header,
            ) from None
    return out
