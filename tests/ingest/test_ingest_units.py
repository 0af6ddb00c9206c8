"""Units of the ingest layer: readers, masking, dates, resolution keys, mappings."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import masking
from ingest.errors import MappingError
from ingest.mapping import load_mapping, parse_mapping, shipped_mappings
from ingest.masking import mask_pii, mask_texts
from ingest.readers import open_source, read_chunks
from ingest.resolve import normalize_company
from ingest.validate import _clean_column, normalize_domain, parse_datetimes


def _records(path: Path, **kw: object) -> list[tuple[int, list[str]]]:
    out = []
    for chunk in read_chunks(open_source(path), **kw):  # type: ignore[arg-type]
        out += list(zip(chunk.lines, chunk.rows, strict=True))
    return out


def test_csv_lines_count_quoted_newlines_crlf_and_blank_lines(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_bytes(b'id,body\r\n1,"two\r\nlines"\r\n\r\n2,plain\r\n3,"a\nb\nc"\r\n4,last')
    got = _records(p, chunk_rows=2)
    assert [line for line, _ in got] == [2, 5, 6, 9]
    assert got[0][1] == ["1", "two\r\nlines"]
    assert got[2][1] == ["3", "a\nb\nc"]


@pytest.mark.parametrize(
    ("payload", "encoding", "written_as"),
    [
        ("id,body\n1,caf\u00e9\n".encode(), "utf-8", "utf-8"),
        ("id,body\n1,caf\u00e9 \u20ac5\n".encode(), "utf-8", "utf-8"),
        (codecs.BOM_UTF8 + "id,body\n1,caf\u00e9\n".encode(), "utf-8-sig", "utf-8-sig"),
        ("id,body\n1,caf\u00e9\n".encode("latin-1"), "utf-8-cp1252", "cp1252"),
        (
            "id,body\n1,caf\u00e9 \u20ac5 \u201cok\u201d\n".encode("cp1252"),
            "utf-8-cp1252",
            "cp1252",
        ),
        ("id,body\n1,caf\u00e9\x81\n".encode("latin-1"), "utf-8-cp1252", "latin-1"),
        ("id,body\n1,caf\u00e9\n".encode("utf-16"), "utf-16", "utf-16"),
    ],
)
def test_encodings_are_detected(
    tmp_path: Path, payload: bytes, encoding: str, written_as: str
) -> None:
    p = tmp_path / "e.csv"
    p.write_bytes(payload)
    src = open_source(p)
    assert src.encoding == encoding
    chunk = next(read_chunks(src))
    assert chunk.header == ["id", "body"]
    assert chunk.rows == [["1", payload.decode(written_as).splitlines()[1][2:]]]
    assert chunk.rows[0][1].startswith("caf\u00e9")


def test_semicolon_csv_and_extra_cells_are_a_bad_row(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("id;body\n1;ok\n2;too;many\n")
    chunk = next(read_chunks(open_source(p)))
    assert chunk.rows == [["1", "ok"]]
    assert [(b.line, "cells" in b.reason) for b in chunk.bad] == [(3, True)]


def test_jsonl_bad_lines_keep_their_numbers(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_text('{"a": 1}\n\nnot json\n[1, 2]\n{"a": 2}\n')
    chunk = next(read_chunks(open_source(p)))
    assert chunk.lines == [1, 5]
    assert [b.line for b in chunk.bad] == [3, 4]


def test_json_array_elements_keep_their_lines(tmp_path: Path) -> None:
    p = tmp_path / "t.json"
    p.write_text('[\n  {"a": 1},\n  {"a": "x\\ny",\n   "b": 2},\n  {"a": 3}\n]\n')
    chunk = next(read_chunks(open_source(p)))
    assert chunk.lines == [2, 3, 5]


def test_mask_pii_masks_emails_and_phones_but_not_dates_or_prices() -> None:
    text = (
        "Mail jane.roe@globex.io or call +44 20 7946 0958 / (555) 123-4567 on 2025-03-01, $1,200.50"
    )
    masked = mask_pii(text)
    assert "jane.roe" not in masked and "7946" not in masked and "123-4567" not in masked
    assert masked.count("[email]") == 1 and masked.count("[phone]") == 2
    assert "2025-03-01" in masked and "$1,200.50" in masked


def test_mask_texts_masks_phones_without_a_three_digit_run() -> None:
    texts = ["Ring +33 1 23 45 67 89 today", "Issue 41", "no digits", "mail a@b.io", ""]
    masked = mask_texts(texts)
    assert masked == ["Ring [phone] today", "Issue 41", "no digits", "mail [email]", ""]
    assert [mask_pii(t) for t in texts] == masked
    # a non-ASCII chunk takes the regex scan; same result
    texts += ["Café: ring 020 7946 0958", "Ünïcode ١٢٣ digits"]
    assert mask_texts(texts) == [mask_pii(t) for t in texts]
    assert mask_texts(texts)[-2] == "Café: ring [phone]"


PII_BITS = ["a", "b+1", " ", "@", ".", "-", "+", "(", ")", "555", "4567", "+44", "020", "user",
            "@firm.com", "@x.co.uk", " +1 555 123 4567", "(555) 123-4567", "555-123-4567", "jos\u00e9",
            "_", "%", "2", "\n", "mail me at ", "\u0663", "1.2.3.4"]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PII_BITS), max_size=14).map("".join))
def test_masking_from_the_first_possible_match_masks_as_the_whole_text(text: str) -> None:
    # the regex is run from the first place a match can start; what it masks must be what
    # running it over the whole text masks
    whole = masking._PII.sub(masking._replace, text) if masking._HINT.search(text) else text
    assert mask_pii(text) == whole
    assert mask_texts([text, "plain"]) == [whole, "plain"]


def test_dates_become_naive_utc_and_bad_ones_nat() -> None:
    s = pd.Series(
        ["2025-03-01", "2025-03-01T12:00:00Z", "2025-03-01T12:00:00+02:00", "2025-03-01 12:00",
         "2025-13-01", "=TODAY()", ""]
    )  # fmt: skip
    got = parse_datetimes(s)
    assert [str(v) for v in got[:4]] == [
        "2025-03-01 00:00:00", "2025-03-01 12:00:00", "2025-03-01 10:00:00", "2025-03-01 12:00:00",
    ]  # fmt: skip
    assert got[4:].isna().all()


def test_vendor_date_format_falls_back_to_iso() -> None:
    got = parse_datetimes(pd.Series(["3/1/2023", "2022-11-15", "junk"]), "%m/%d/%Y")
    assert [str(v)[:10] for v in got[:2]] == ["2023-03-01", "2022-11-15"]
    assert pd.isna(got[2])


def test_company_and_domain_normalization() -> None:
    assert normalize_company("Acme, Inc.") == normalize_company("ACME Inc") == "acme"
    assert normalize_company("M\u00fcller & S\u00f6hne GmbH") == "muller and sohne"
    assert normalize_domain("https://www.Globex.io/pricing") == "globex.io"
    assert normalize_domain("ops@initech.com") == "initech.com"


def test_every_shipped_mapping_loads_and_names_a_kind() -> None:
    names = shipped_mappings()
    assert {"zendesk", "g2", "typeform", "qualtrics", "hubspot", "salesforce"} <= set(names)
    for name in names:
        m = load_mapping(name)
        assert m.kind and m.vendor and m.columns


def test_flat_contract_mapping_and_bad_mappings(tmp_path: Path) -> None:
    m = parse_mapping({"body": "Description", "ticket_id": "Id"}, "flat")
    assert m.columns == {"body": ("Description",), "ticket_id": ("Id",)}
    with pytest.raises(MappingError):
        load_mapping("no-such-vendor")
    bad = tmp_path / "bad.yaml"
    bad.write_text("just a string\n")
    with pytest.raises(MappingError):
        load_mapping(str(bad))


def test_email_domains_agree_with_email_domain() -> None:
    from ingest.validate import email_domain, email_domains

    values = ["Bob@Acme.com", "x", "a@b", "a@b.c", "a@b.com.", "a@@x.io", "@x.io", "a@x .io",
              "a@.x.io.", "", "José@Münch.DE", "a@b@c.com", "İ@İstanbul.COM"]  # fmt: skip
    assert email_domains([v.lower() for v in values]) == [email_domain(v) for v in values]
    assert email_domains(["bob@acme.com", "nobody"]) == ["acme.com", ""]


@given(st.lists(st.text(alphabet=" \t\u00a0\u2003\x1fab\r\n", max_size=4), max_size=6))
def test_cells_are_stripped_exactly_when_a_cell_has_edge_whitespace(cells: list[str]) -> None:
    # one search over the joined column decides whether to strip at all
    assert _clean_column(list(cells), is_text=False) == [c.strip() for c in cells]
