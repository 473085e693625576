"""Decode a CSV batch body and split it into a header and rows.

The body is what an analyst pastes or uploads: comma, semicolon or tab separated, UTF-8 with
or without a byte order mark, or Windows-1252 from an older spreadsheet export. Every cell is
read as text, so a phone number keeps its leading `+` or `0`. Rows are numbered from 1 for the
first data row after the header; blank lines are skipped and are not rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smskit.errors import InvalidInputError

if TYPE_CHECKING:
    from _csv import Reader as _Reader

__all__ = [
    "PHONE_ALIASES",
    "REASON_ALIASES",
    "BatchFile",
    "BatchHeader",
    "BatchRow",
    "RowCells",
    "decode_body",
    "parse_batch",
    "read_batch",
    "sniff_delimiter",
]

# Header names are compared after lower-casing and removing spaces, `_` and `-`.
PHONE_ALIASES = ("Phone Number", "phone", "phone_number", "mobile", "mobile number", "to", "number")
REASON_ALIASES = ("Reason", "reason", "purpose", "notes")

_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "a comma", ";": "a semicolon", "\t": "a tab"}
_HEADER_EXAMPLE = "'Phone Number,Reason'"

# A header cell that is itself a phone number: digits and phone punctuation, 7+ digits.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]*(?:\d[\s().\-/]*){7,}$")


# A data row as `read_batch` yields it: row number, phone cell, reason cell, the other
# cells by column name, and a message when the row has more cells than the header or its
# phone cell spans several lines.
RowCells = tuple[int, str, str, dict[str, str], str | None]


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One data row: its number, phone and reason cells, the other cells, and a row error."""

    row: int
    phone: str
    reason: str
    variables: dict[str, str]
    error: str | None = None


@dataclass(frozen=True)
class BatchHeader:
    """The header row: every name, the phone and reason columns, and the extra columns."""

    names: list[str]
    phone_column: str
    reason_column: str
    columns: list[str]
    delimiter: str


@dataclass(frozen=True)
class BatchFile:
    """A parsed CSV batch: its header and its data rows."""

    header: BatchHeader
    rows: list[BatchRow] = field(default_factory=list)


def decode_body(body: str | bytes) -> str:
    """Decode a CSV body to text and drop a leading byte order mark.

    Bytes are read as UTF-16 when they start with a UTF-16 byte order mark (Excel's "Unicode
    text"), else as UTF-8, else as Windows-1252. charset-normalizer is not used because it
    guesses: version 3.5.3 picked cp1250 for short Western European test bodies, which turns
    Windows-1252's `è` (0xE8) into `č`. Raises InvalidInputError when no decoding fits.
    """
    if isinstance(body, bytes) and body.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InvalidInputError(
            "this is a spreadsheet workbook (Excel or similar), not CSV text; "
            "save it as 'CSV UTF-8' and use that file"
        )
    if isinstance(body, str):
        return body.removeprefix("\ufeff")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return body.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _decode_error(body, exc, "UTF-16") from exc
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _decode_error(body, exc, "UTF-8 or Windows-1252") from exc


def _decode_error(body: bytes, exc: UnicodeDecodeError, tried: str) -> InvalidInputError:
    line = body.count(b"\n", 0, exc.start) + 1
    byte = body[exc.start : exc.start + 1]
    return InvalidInputError(
        f"the CSV is not {tried} text: byte {byte!r} on line {line} cannot be decoded; "
        "save the file as 'CSV UTF-8' and try again",
        row=None,
        value=byte,
    )


def parse_batch(body: str | bytes) -> BatchFile:
    """Decode a CSV body and return its header and data rows.

    Raises InvalidInputError as `read_batch` does.
    """
    header, rows = read_batch(body)
    return BatchFile(header, [BatchRow(*cells) for cells in rows])


def read_batch(body: str | bytes) -> tuple[BatchHeader, Iterator[RowCells]]:
    """Decode a CSV body, read its header and return it with an iterator over the data rows.

    Raises InvalidInputError, naming the columns found, when the body is empty, starts with
    a data row instead of a header, or lacks a phone or reason column. The iterator raises
    it when there are no data rows or the CSV cannot be read. A row with more cells than the
    header is kept with an error message, and missing cells are empty.
    """
    text = decode_body(body)
    if "\r" in text:
        # CRLF and lone CR become LF, so quoted multi-line cells contain plain line feeds
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = sniff_delimiter(text)
    # strict: an unclosed quote raises instead of swallowing the rest of the body
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        names = _read_header(reader)
    except csv.Error as exc:
        raise _csv_error(exc, "the header row") from exc
    layout = _Layout.from_header(names)
    header = BatchHeader(
        names=names,
        phone_column=names[layout.phone],
        reason_column=names[layout.reason],
        columns=[name for name, _ in layout.extra],
        delimiter=delimiter,
    )
    return header, _iter_rows(reader, layout, header)


def _csv_error(exc: csv.Error, where: str) -> InvalidInputError:
    if "unexpected end of data" in str(exc):
        return InvalidInputError(
            f"a quote opened in {where} is never closed, so the rest of the CSV would be one "
            "cell; close the quote or remove it",
            value=where,
        )
    return InvalidInputError(
        f"{where} cannot be read as CSV ({exc}); put the whole cell in quotes and write "
        'each quote inside it twice ("")',
        value=where,
    )


def sniff_delimiter(text: str) -> str:
    """Return the comma, semicolon or tab that occurs most often in the first line.

    Delimiters inside quoted fields do not count; a tie goes to the comma, then the
    semicolon. Only the header line is read, because it contains no free text.
    """
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    seen_text = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in "\r\n":
            if seen_text:
                break
        elif char in counts:
            counts[char] += 1
            seen_text = True
        elif not char.isspace():
            seen_text = True
    return max(_DELIMITERS, key=lambda delimiter: counts[delimiter])


def _read_header(reader: _Reader) -> list[str]:
    for cells in reader:
        header = [cell.strip() for cell in cells]
        if any(header):
            return header
    raise InvalidInputError(
        f"the CSV is empty; write a header row such as {_HEADER_EXAMPLE} and one row per recipient",
        value="",
    )


def _normal_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


@dataclass(frozen=True)
class _Layout:
    """Column indexes of the phone, the reason, the named extra and the unnamed columns."""

    width: int
    phone: int
    reason: int
    extra: list[tuple[str, int]]
    unnamed: list[int]

    @classmethod
    def from_header(cls, header: list[str]) -> _Layout:
        _reject_data_as_header(header)
        _reject_repeated_names(header)
        phone = _find_column(header, PHONE_ALIASES, "phone")
        reason = _find_column(header, REASON_ALIASES, "reason")
        extra = [(name, i) for i, name in enumerate(header) if name and i not in (phone, reason)]
        unnamed = [i for i, name in enumerate(header) if not name]
        return cls(len(header), phone, reason, extra, unnamed)


def _reject_data_as_header(header: list[str]) -> None:
    for name in header:
        if _PHONE_LIKE.match(name):
            raise InvalidInputError(
                f"the first row ({_quoted(header)}) looks like data, not a header: {name!r} "
                f"is a phone number; add a header row such as {_HEADER_EXAMPLE} above it",
                row=0,
                value=name,
            )


def _reject_repeated_names(header: list[str]) -> None:
    # results name the extra columns var_<name> in DuckDB, whose names ignore case
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            continue
        key = name.lower()
        if key in seen:
            raise InvalidInputError(
                f"columns {seen[key] + 1} and {index + 1} are both named {name!r} (found "
                f"columns {_quoted(header)}); rename or delete one of them",
                column=name,
                value=header,
            )
        seen[key] = index


def _find_column(header: list[str], aliases: tuple[str, ...], role: str) -> int:
    alias_keys = {_normal_name(alias) for alias in aliases}
    found = [i for i, name in enumerate(header) if _normal_name(name) in alias_keys]
    if len(found) == 1:
        return found[0]
    accepted = ", ".join(repr(alias) for alias in aliases)
    if not found:
        raise InvalidInputError(
            f"the CSV has no {role} column (found columns {_quoted(header)}); name the "
            f"{role} column one of {accepted}",
            column=role,
            value=header,
        )
    names = [header[i] for i in found]
    raise InvalidInputError(
        f"the CSV has {len(found)} {role} columns ({_quoted(names)}); keep one of them "
        f"under a name from {accepted} and rename the others",
        column=role,
        value=header,
    )


def _iter_rows(reader: _Reader, layout: _Layout, header: BatchHeader) -> Iterator[RowCells]:
    # locals bound outside the loop: this runs once per row of 100k-row bodies
    width = layout.width
    phone_index = layout.phone
    reason_index = layout.reason
    extra = layout.extra
    unnamed = layout.unnamed
    strip = str.strip
    # Reason and variable cells repeat across rows (one reason for a whole campaign, a few
    # cities), so equal texts share one string object. This keeps a 100k-row batch about a
    # third smaller in memory, and memory is most of what validation adds to phonenumbers.
    shared: dict[str, str] = {}
    share = shared.setdefault
    number = 0
    try:
        for raw in reader:
            cells = list(map(strip, raw))
            if not any(cells):
                continue
            number += 1
            error = None
            if len(cells) != width:
                cells, error = _fit_cells(cells, width, header.delimiter)
            if unnamed:
                _reject_unnamed_values(cells, unnamed, number)
            phone = cells[phone_index]
            if "\n" in phone and error is None:
                error = _multi_line_phone_error(phone)
            variables = {name: share(cells[index], cells[index]) for name, index in extra}
            reason = cells[reason_index]
            yield number, phone, share(reason, reason), variables, error
    except csv.Error as exc:
        raise _csv_error(exc, f"data row {number + 1}") from exc
    if number == 0:
        raise InvalidInputError(
            f"the CSV has a header ({_quoted(header.names)}) but no data rows; add one row "
            "per recipient below the header",
            value=header.names,
        )


def _fit_cells(cells: list[str], width: int, delimiter: str) -> tuple[list[str], str | None]:
    """Pad a short row with empty cells; cut a long one and describe the extra cells."""
    if len(cells) < width:
        return cells + [""] * (width - len(cells)), None
    surplus = [cell for cell in cells[width:] if cell]
    if not surplus:
        return cells[:width], None
    listed = _quoted(surplus[:3]) + (", ..." if len(surplus) > 3 else "")
    return cells[:width], (
        f"the row has {len(cells)} cells but the header has {width} columns (extra: {listed}); "
        f"put quotes around cells that contain {_DELIMITER_NAMES[delimiter]}, or add a "
        "header name for the extra column"
    )


def _multi_line_phone_error(phone: str) -> str:
    lines = phone.count("\n") + 1
    return (
        f"the phone cell spans {lines} lines ({phone[:40]!r}); a quote opened before it is "
        "probably never closed, so close it or remove it"
    )


def _reject_unnamed_values(cells: list[str], unnamed: list[int], row: int) -> None:
    for index in unnamed:
        if cells[index]:
            raise InvalidInputError(
                f"column {index + 1} has no name in the header but row {row} has "
                f"{cells[index]!r} in it; name the column in the header row or delete it",
                row=row,
                value=cells[index],
            )
