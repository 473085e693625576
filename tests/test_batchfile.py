"""Tests for smskit.batchfile: decoding, delimiters, header matching and row numbering."""

from __future__ import annotations

import codecs

import pytest

from smskit.batchfile import (
    PHONE_ALIASES,
    REASON_ALIASES,
    BatchRow,
    decode_body,
    parse_batch,
    sniff_delimiter,
)
from smskit.errors import InvalidInputError


def test_decode_body_cp1252_apostrophe() -> None:
    body = b"phone,reason\n+12025550143,Confirm Tuesday\x92s visit\n"
    assert decode_body(body) == "phone,reason\n+12025550143,Confirm Tuesday\u2019s visit\n"


def test_parse_batch_cp1252_accents() -> None:
    body = "phone,reason\n+33612345678,Crème brûlée order for Müller\n".encode("cp1252")
    batch = parse_batch(body)
    assert batch.rows[0].reason == "Crème brûlée order for Müller"


def test_decode_body_utf8_bom() -> None:
    body = codecs.BOM_UTF8 + "Phone Number,Reason\n+12025550143,Café\n".encode()
    text = decode_body(body)
    assert text.startswith("Phone Number")
    assert parse_batch(body).header.phone_column == "Phone Number"


def test_decode_body_str_bom() -> None:
    assert decode_body("\ufeffphone,reason\n") == "phone,reason\n"


def test_decode_body_utf16_bom() -> None:
    body = "phone\treason\n+12025550143\tCafé\n".encode("utf-16")
    batch = parse_batch(body)
    assert batch.rows[0].reason == "Café"
    assert batch.header.delimiter == "\t"


def test_decode_body_truncated_utf16() -> None:
    body = codecs.BOM_UTF16_LE + "phone".encode("utf-16-le") + b"\x00"
    with pytest.raises(InvalidInputError, match="not UTF-16 text"):
        decode_body(body)


def test_decode_body_undecodable() -> None:
    # 0x81 is undefined in Windows-1252 and invalid as a UTF-8 start byte
    body = b"phone,reason\n+12025550143,x\x81y\n"
    with pytest.raises(InvalidInputError, match=r"byte b'\\x81' on line 2.*CSV UTF-8"):
        decode_body(body)


def test_parse_batch_crlf() -> None:
    batch = parse_batch(b"phone,reason\r\n+12025550143,Hello\r\n+12025550144,Bye\r\n")
    assert [row.reason for row in batch.rows] == ["Hello", "Bye"]
    assert [row.row for row in batch.rows] == [1, 2]


def test_parse_batch_multi_line_cell_crlf_becomes_lf() -> None:
    batch = parse_batch(b'phone,reason\r\n+12025550143,"line one\r\nline two"\r\n')
    assert batch.rows[0].reason == "line one\nline two"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("phone,reason\n", ","),
        ("phone;reason\n", ";"),
        ("phone\treason\n", "\t"),
        ('"Phone, mobile";reason\n', ";"),
        ("\n\nphone;reason;city\n1,2,3\n", ";"),
        ("phone\n", ","),
    ],
)
def test_sniff_delimiter(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_parse_batch_delimiters(delimiter: str) -> None:
    lines = [["Phone Number", "Reason", "city"], ["+33 6 12 34 56 78", "Rappel, facture", "Lyon"]]
    text = "\n".join(delimiter.join(_quote(cell, delimiter) for cell in line) for line in lines)
    batch = parse_batch(text)
    assert batch.header.delimiter == delimiter
    assert batch.rows == [BatchRow(1, "+33 6 12 34 56 78", "Rappel, facture", {"city": "Lyon"})]


def _quote(cell: str, delimiter: str) -> str:
    return f'"{cell}"' if delimiter in cell or "," in cell else cell


def test_parse_batch_semicolon_with_commas_in_cells() -> None:
    batch = parse_batch("phone;reason\n+12025550143;Remind, then ask\n")
    assert batch.rows[0].reason == "Remind, then ask"


def test_parse_batch_multi_line_field_one_row() -> None:
    body = (
        "phone,reason\n"
        '+12025550143,"Remind about the invoice,\nask when they can pay"\n'
        "+12025550144,Second\n"
    )
    batch = parse_batch(body)
    assert len(batch.rows) == 2
    assert batch.rows[0].reason == "Remind about the invoice,\nask when they can pay"
    assert batch.rows[1].row == 2
    assert batch.rows[1].phone == "+12025550144"


def test_parse_batch_blank_lines_skipped() -> None:
    body = "\nphone,reason\n\n+12025550143,One\n   \n,\n+12025550144,Two\n\n"
    batch = parse_batch(body)
    assert [(row.row, row.reason) for row in batch.rows] == [(1, "One"), (2, "Two")]


def test_parse_batch_strips_spaces() -> None:
    batch = parse_batch(" Phone Number , Reason , City \n +12025550143 , Hello ,  Paris  \n")
    assert batch.header.names == ["Phone Number", "Reason", "City"]
    assert batch.rows[0] == BatchRow(1, "+12025550143", "Hello", {"City": "Paris"})


@pytest.mark.parametrize("phone", ["+447911123456", "07911 123456", "0044 7911 123456", "007"])
def test_parse_batch_phone_kept_as_text(phone: str) -> None:
    batch = parse_batch(f"phone,reason\n{phone},Hello\n")
    assert batch.rows[0].phone == phone


def test_parse_batch_variables_in_csv_order() -> None:
    batch = parse_batch("zeta,phone,alpha,reason,mid\nz,+12025550143,a,Hello,m\n")
    assert batch.header.columns == ["zeta", "alpha", "mid"]
    assert list(batch.rows[0].variables) == ["zeta", "alpha", "mid"]
    assert batch.rows[0].variables == {"zeta": "z", "alpha": "a", "mid": "m"}


def test_parse_batch_extra_cells_reported() -> None:
    batch = parse_batch("phone,reason\n+12025550143,Hello,surplus,more\n")
    row = batch.rows[0]
    assert row.reason == "Hello"
    assert row.error is not None
    assert "4 cells" in row.error
    assert "2 columns" in row.error
    assert "'surplus', 'more'" in row.error


def test_parse_batch_extra_empty_cells_ignored() -> None:
    batch = parse_batch("phone,reason\n+12025550143,Hello,,\n")
    assert batch.rows[0].error is None


def test_parse_batch_missing_cells_empty() -> None:
    batch = parse_batch("phone,reason,city\n+12025550143\n")
    assert batch.rows[0] == BatchRow(1, "+12025550143", "", {"city": ""})


def test_parse_batch_multi_line_phone_cell_reported() -> None:
    batch = parse_batch('phone,reason\n"+12025550143\n+12025550144",Hello\n')
    error = batch.rows[0].error
    assert error is not None
    assert "spans 2 lines" in error


@pytest.mark.parametrize("alias", PHONE_ALIASES)
def test_parse_batch_phone_aliases(alias: str) -> None:
    batch = parse_batch(f"{alias},Reason\n+12025550143,Hello\n")
    assert batch.header.phone_column == alias


@pytest.mark.parametrize("alias", REASON_ALIASES)
def test_parse_batch_reason_aliases(alias: str) -> None:
    batch = parse_batch(f"phone,{alias}\n+12025550143,Hello\n")
    assert batch.header.reason_column == alias
    assert batch.rows[0].reason == "Hello"


@pytest.mark.parametrize("name", ["PHONE NUMBER", "phone number", "PhoneNumber", "Phone-Number"])
def test_parse_batch_header_case_and_space_insensitive(name: str) -> None:
    batch = parse_batch(f"{name},REASON\n+12025550143,Hello\n")
    assert batch.header.phone_column == name
    assert batch.header.reason_column == "REASON"


def test_parse_batch_missing_phone_column_names_columns() -> None:
    with pytest.raises(InvalidInputError, match="no phone column.*'name', 'reason'") as caught:
        parse_batch("name,reason\nAna,Hello\n")
    assert caught.value.column == "phone"


def test_parse_batch_missing_reason_column_names_columns() -> None:
    with pytest.raises(InvalidInputError, match="no reason column.*'phone', 'city'"):
        parse_batch("phone,city\n+12025550143,Paris\n")


@pytest.mark.parametrize("body", ["", "   \n\n", b"", codecs.BOM_UTF8])
def test_parse_batch_empty_body(body: str | bytes) -> None:
    with pytest.raises(InvalidInputError, match="the CSV is empty"):
        parse_batch(body)


def test_parse_batch_header_without_rows() -> None:
    with pytest.raises(InvalidInputError, match="header .'phone', 'reason'. but no data rows"):
        parse_batch("phone,reason\n\n")


@pytest.mark.parametrize(
    "first_line", ["+12025550143,Hello", "(202) 555-0143,Hello", "Hello,07911 123456"]
)
def test_parse_batch_first_row_is_phone_number(first_line: str) -> None:
    with pytest.raises(InvalidInputError, match="looks like data, not a header"):
        parse_batch(f"{first_line}\n+12025550144,Bye\n")


def test_parse_batch_two_phone_columns() -> None:
    with pytest.raises(InvalidInputError, match="2 phone columns .'phone', 'mobile'."):
        parse_batch("phone,mobile,reason\n+12025550143,+12025550144,Hello\n")


def test_parse_batch_repeated_column_names() -> None:
    with pytest.raises(InvalidInputError, match="columns 3 and 4 are both named 'City'"):
        parse_batch("phone,reason,city,City\n+12025550143,Hello,a,b\n")


def test_parse_batch_unnamed_empty_column_dropped() -> None:
    batch = parse_batch("phone,reason,\n+12025550143,Hello,\n")
    assert batch.header.columns == []
    assert batch.rows[0].variables == {}


def test_parse_batch_unnamed_column_with_value() -> None:
    with pytest.raises(InvalidInputError, match="column 3 has no name.*row 2 has 'x'"):
        parse_batch("phone,reason,\n+12025550143,Hello,\n+12025550144,Bye,x\n")


def test_parse_batch_unclosed_quote() -> None:
    body = 'phone,reason\n+12025550143,"Hello\n+12025550144,Bye\n'
    with pytest.raises(InvalidInputError, match="quote opened in data row 1 is never closed"):
        parse_batch(body)


def test_parse_batch_unclosed_quote_in_header() -> None:
    with pytest.raises(InvalidInputError, match="quote opened in the header row"):
        parse_batch('"phone,reason\n+12025550143,Hello\n')


def test_parse_batch_text_after_closing_quote() -> None:
    with pytest.raises(InvalidInputError, match="data row 2 cannot be read as CSV"):
        parse_batch('phone,reason\n+12025550143,Hi\n+12025550144,"Bye" now\n')


def test_parse_batch_quotes_inside_unquoted_cell() -> None:
    batch = parse_batch('phone,reason\n+12025550143,Ask about the 5" screen\n')
    assert batch.rows[0].reason == 'Ask about the 5" screen'
