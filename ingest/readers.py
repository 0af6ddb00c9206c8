"""Streamed readers for CSV, JSON Lines and JSON files, in chunks, with true source lines.

A reader never holds a whole CSV or JSON Lines file: it yields ``RawChunk`` objects of at
most ``chunk_rows`` records. Every record carries the 1-based physical line it starts on,
also when earlier records contain quoted newlines. A record that cannot be read at all
(invalid JSON, a CSV row with more cells than the header) is yielded as a ``BadRow`` so
the pipeline quarantines it and goes on.

Encodings: UTF-8 with or without BOM, UTF-16 with BOM, and for anything that is not valid
UTF-8 Windows-1252 (Excel's "Latin-1", with the euro sign and curly quotes) or, where
bytes undefined in Windows-1252 occur, Latin-1, which decodes every byte. One pass over
the bytes decides this and computes the file hash.
CRLF, CR and LF line ends are all accepted.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ingest.errors import InputError

# Rows per chunk, and so per transaction. Big: each commit of a chunk rewrites (WAL, then
# checkpoint) every page of the random-keyed hash indexes it touched, which at a million
# stored documents is most of them; 100k rows per commit cut that cost 3x against 20k.
DEFAULT_CHUNK_ROWS = 100_000
MAX_FIELD_CHARS = 64 * 1024 * 1024
_BLOCK = 1 << 20
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")

UNREADABLE_ROW = "unreadable CSV row"  # the reason of a row the csv module gave up on

csv.field_size_limit(MAX_FIELD_CHARS)


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest: its format, encoding and content hash (sha256 of the bytes)."""

    path: Path
    format: str  # csv | jsonl | json
    encoding: str
    file_hash: str
    size: int


@dataclass(frozen=True)
class BadRow:
    """A record that could not be parsed; ``raw`` is its original content as text."""

    line: int
    raw: str
    reason: str


@dataclass
class RawChunk:
    """Up to ``chunk_rows`` records as read.

    CSV: ``header`` is the header row and each row a list of cells. JSON: ``header`` is
    None and each row a dict (nested values kept).
    """

    header: list[str] | None
    rows: list[Any]
    lines: list[int]
    bad: list[BadRow] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.bad)


@dataclass(frozen=True)
class Resume:
    """Where to go on reading a file: a record boundary (byte ``offset``, the number of
    the ``line`` it starts) past the header, and what the header said."""

    offset: int
    line: int
    header: list[str] | None = None  # CSV
    delimiter: str = ","  # CSV

    def open_text(self, source: SourceFile, newline: str | None = "") -> IO[str]:
        """The file as text from ``offset`` (a line start: no character straddles it)."""
        raw = source.path.open("rb")
        raw.seek(self.offset)
        encoding = "utf-8" if source.encoding == "utf-8-sig" and self.offset else source.encoding
        return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=newline)


def _sniff_encoding_and_hash(path: Path) -> tuple[str, str, int]:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    cp1252 = True  # Windows-1252 leaves five bytes undefined; Latin-1 decodes anything
    size = 0
    head = b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if not head:
                head = block[:4]
            digest.update(block)
            size += len(block)
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
            if cp1252 and any(b in block for b in _CP1252_UNDEFINED):
                cp1252 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8" if utf8 else "cp1252" if cp1252 else "latin-1"
    return encoding, digest.hexdigest(), size


def _first_char(path: Path, encoding: str) -> str:
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        while chunk := fh.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0]
    return ""


def _first_line_is_object(path: Path, encoding: str) -> bool:
    """JSON Lines, or one JSON document (e.g. ``{"tickets": [...]}``) spread over lines?"""
    with path.open("r", encoding=encoding, errors="replace") as fh:
        for line in fh:
            if line.strip():
                try:
                    return isinstance(json.loads(line.lstrip("\ufeff")), dict)
                except json.JSONDecodeError:
                    return False
    return True


def open_source(path: Path | str) -> SourceFile:
    """Inspect ``path``: format from the extension (or the first character), encoding,
    hash. An unreadable path is an InputError."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file (give the path of a CSV or JSON Lines file)")
    try:
        encoding, file_hash, size = _sniff_encoding_and_hash(p)
    except OSError as exc:
        raise InputError(f"{p}: cannot read the file ({exc.strerror or exc})") from exc
    suffix = p.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        fmt = "jsonl"
    elif suffix == ".json":
        fmt = (
            "json"
            if _first_char(p, encoding) == "[" or not _first_line_is_object(p, encoding)
            else "jsonl"
        )
    elif suffix in {".csv", ".tsv", ".txt"}:
        fmt = "csv"
    else:
        first = _first_char(p, encoding)
        fmt = "json" if first == "[" else "jsonl" if first == "{" else "csv"
    return SourceFile(p, fmt, encoding, file_hash, size)


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def csv_chunks(
    reader: Any, header: list[str], skip_rows: int, chunk_rows: int, base: int, prev: int
) -> Iterator[RawChunk]:
    """The records ``reader`` yields after the header, in chunks. Line numbers are
    ``base`` + the reader's own; ``prev`` is the reader's line of the last row read."""
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[BadRow] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad.append(BadRow(base + prev + 1, "", f"{UNREADABLE_ROW}: {exc}"))
            prev = reader.line_num
            continue
        start, prev = prev + 1, reader.line_num
        if not row or (len(row) == 1 and row[0] == ""):
            continue  # a blank line is no record
        if skip_rows > 0:
            skip_rows -= 1
            continue
        if len(row) > width and any(c.strip() for c in row[width:]):
            raw = json.dumps(row, ensure_ascii=False)
            bad.append(BadRow(base + start, raw, f"row has {len(row)} cells, header has {width}"))
        else:
            if len(row) != width:
                row = (row + [""] * width)[:width]
            rows.append(row)
            lines.append(base + start)
        if len(rows) + len(bad) >= chunk_rows:
            yield RawChunk(header, rows, lines, bad)
            rows, lines, bad = [], [], []
    yield RawChunk(header, rows, lines, bad)


def read_header(reader: Any, path: Path) -> list[str]:
    """The first non-empty row, cleaned ([] for a file without one)."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return []
        except csv.Error as exc:
            raise InputError(f"{path}: unreadable CSV header ({exc})") from exc
        if row:
            return [c.lstrip("\ufeff").strip() for c in row]


def csv_delimiter(source: SourceFile) -> str:
    """The delimiter of ``source``, sniffed from its first line."""
    with source.path.open("r", encoding=source.encoding, errors="replace", newline="") as fh:
        return sniff_delimiter(fh.readline().lstrip("\ufeff"))


def readcsv_chunks(
    source: SourceFile,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    skip_rows: int = 0,
    resume: Resume | None = None,
) -> Iterator[RawChunk]:
    """CSV records in chunks; ``skip_rows`` rows after the header are not records
    (e.g. the question-text and import-id rows of a Qualtrics export). ``resume``: go
    on from a record boundary past the header (see ``ingest.pieces``)."""
    if resume is not None:
        with resume.open_text(source) as fh:
            reader = csv.reader(fh, delimiter=resume.delimiter, strict=False)
            base = resume.line - 1
            yield from csv_chunks(reader, resume.header or [], skip_rows, chunk_rows, base, 0)
        return
    delimiter = csv_delimiter(source)
    with source.path.open("r", encoding=source.encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=False)
        header = read_header(reader, source.path)
        yield from csv_chunks(reader, header, skip_rows, chunk_rows, 0, reader.line_num)


def _parse_object(text: str, line: int) -> dict[str, Any] | BadRow:
    """One JSON Lines record (or the reason it is none)."""
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deep"
        return BadRow(line, text, f"invalid JSON: {reason}")
    if not isinstance(obj, dict):
        return BadRow(line, text, f"a record must be a JSON object, got {type(obj).__name__}")
    return obj


def jsonl_chunks(lines: Iterator[str], first: int, chunk_rows: int) -> Iterator[RawChunk]:
    """Records of JSON Lines text; ``first`` is the number of its first line."""
    chunk = RawChunk(None, [], [])
    for number, text in enumerate(lines, start=first):
        text = text.lstrip("\ufeff").strip()
        if not text:
            continue
        obj = _parse_object(text, number)
        if isinstance(obj, BadRow):
            chunk.bad.append(obj)
        else:
            chunk.rows.append(obj)
            chunk.lines.append(number)
        if chunk.size >= chunk_rows:
            yield chunk
            chunk = RawChunk(None, [], [])
    yield chunk


def readjsonl_chunks(
    source: SourceFile, chunk_rows: int = DEFAULT_CHUNK_ROWS, resume: Resume | None = None
) -> Iterator[RawChunk]:
    """JSON Lines: one object per line; blank lines are skipped."""
    if resume is not None:
        with resume.open_text(source, newline=None) as fh:
            yield from jsonl_chunks(fh, resume.line, chunk_rows)
        return
    with source.path.open("r", encoding=source.encoding, errors="replace", newline=None) as fh:
        yield from jsonl_chunks(fh, 1, chunk_rows)


def _array_start(text: str, records_key: str | None) -> int:
    """Offset just after the '[' that opens the record list."""
    stripped = len(text) - len(text.lstrip())
    if text[stripped : stripped + 1] == "[":
        return stripped + 1
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON document: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(doc, dict):
        raise InputError("a JSON file must hold an array of records or an object with one")
    keys = [records_key] if records_key else [k for k, v in doc.items() if isinstance(v, list)]
    if not keys or not isinstance(doc.get(keys[0]), list):
        raise InputError("the JSON object holds no list of records (set `records:` in the mapping)")
    match = re.search(rf'"{re.escape(keys[0])}"\s*:\s*\[', text)
    if match is None:
        raise InputError(f"cannot locate the record list '{keys[0]}' in the JSON document")
    return match.end()


def read_json_chunks(
    source: SourceFile, chunk_rows: int = DEFAULT_CHUNK_ROWS, records_key: str | None = None
) -> Iterator[RawChunk]:
    """A JSON array of objects (or an object wrapping one, e.g. ``{"tickets": [...]}``).
    Such a document is parsed whole, element by element, keeping each element's line."""
    text = source.path.read_text(encoding=source.encoding, errors="replace").lstrip("\ufeff")
    pos = _array_start(text, records_key)
    decoder = json.JSONDecoder()
    line, counted = 1, 0
    chunk = RawChunk(None, [], [])
    ws = re.compile(r"[\s,]*")
    while True:
        pos = ws.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text) or text[pos] == "]":
            break
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            chunk.bad.append(BadRow(line, text[pos : pos + 2000], f"invalid JSON: {exc.msg}"))
            break  # the rest of the array cannot be located reliably
        if isinstance(obj, dict):
            chunk.rows.append(obj)
            chunk.lines.append(line)
        else:
            raw = text[pos:end]
            chunk.bad.append(
                BadRow(line, raw, f"a record must be a JSON object, got {type(obj).__name__}")
            )
        pos = end
        if chunk.size >= chunk_rows:
            yield chunk
            chunk = RawChunk(None, [], [])
    yield chunk


def read_chunks(
    source: SourceFile,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    skip_rows: int = 0,
    records_key: str | None = None,
    resume: Resume | None = None,
) -> Iterator[RawChunk]:
    """Chunks of ``source`` in its format; ``resume`` (CSV and JSON Lines): from a record
    boundary on, the header already read."""
    if source.format == "csv":
        return readcsv_chunks(source, chunk_rows, 0 if resume else skip_rows, resume)
    if source.format == "json":
        return read_json_chunks(source, chunk_rows, records_key)
    return readjsonl_chunks(source, chunk_rows, resume)


def cells_as_json(header: list[str] | None, row: Any) -> str:
    """The original content of a record as JSON (header -> cell for CSV rows)."""
    cells = dict(zip(header, row, strict=False)) if header is not None else row
    text = json.dumps(cells, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes: keep them escaped
        text = json.dumps(cells, ensure_ascii=True, default=str)
    return text
