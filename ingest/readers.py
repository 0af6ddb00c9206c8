"""Streamed readers for CSV, JSON Lines and JSON files, in chunks, with true source lines.

A reader never holds a whole CSV or JSON Lines file: it yields ``RawChunk`` objects of at
most ``chunk_rows`` records. Every record carries the 1-based physical line it starts on,
also when earlier records contain quoted newlines. A record that cannot be read at all
(invalid JSON, a CSV row with more cells than the header) is yielded as a ``BadRow`` so
the pipeline quarantines it and goes on.

Encodings: UTF-8 with or without BOM and UTF-16 with BOM. A file that is not valid UTF-8
throughout is read with the codec ``utf-8-cp1252``: UTF-8 where the bytes are UTF-8, and
each byte that is not read as Windows-1252 (Excel's "Latin-1", with the euro sign and
curly quotes; the five bytes it leaves undefined as Latin-1). So a file whose rows were
written by different tools (some UTF-8, some Windows-1252) keeps every row's characters:
no UTF-8 row becomes mojibake because another row is not UTF-8. One pass over the bytes
decides the encoding and computes the file hash.
CRLF, CR and LF line ends are all accepted.

Paths: only regular files are read; a directory, a device (``/dev/zero``) or a pipe is
refused before any byte is read (``check_path``). A gzip file (``.csv.gz``,
``.jsonl.gz``, or any file starting with gzip's magic bytes) is decompressed into a
temporary file first, which every reader (workers included) then reads as a plain file;
provenance names the ``.gz`` file. Other archives (ZIP, an .xlsx workbook, bzip2, xz)
are refused with what to do.

Quotes: a quoted CSV field may span at most ``SourceFile.max_quoted_lines`` lines. One
that runs past it, or to the end of the file without closing, is an unterminated quote:
its record's first line becomes a ``BadRow`` ("unterminated quote at line L") and
reading resumes at the next line, so one stray quote never swallows the rest of a file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import re
import shutil
import stat
import tempfile
import zlib
from collections.abc import Iterable, Iterator
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

UNREADABLE_ROW = "unreadable CSV row"  # the reason of a row the csv module gave up on
UNTERMINATED = "unterminated quote at line"  # the reason of a record cut by the quote bound
DEFAULT_MAX_QUOTED_LINES = 10_000
MIXED_ENCODING = "utf-8-cp1252"
GZIP_MAX_RATIO = 1000  # decompressed / compressed bytes beyond this: refused (a zip bomb)

csv.field_size_limit(MAX_FIELD_CHARS)


# ----------------------------------------------------------------- the mixed codec
def _byte_as_cp1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
        return chr(byte)


_CP1252_CHARS = [_byte_as_cp1252(b) for b in range(256)]


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """A codec error handler: the bytes that are not UTF-8, each as Windows-1252."""
    assert isinstance(exc, UnicodeDecodeError)
    bad = exc.object[exc.start : exc.end]
    return "".join(_CP1252_CHARS[b] for b in bad), exc.end


class _MixedDecoder(codecs.BufferedIncrementalDecoder):
    def _buffer_decode(self, data: Any, errors: str, final: bool) -> tuple[str, int]:
        return codecs.utf_8_decode(data, "undertow-cp1252", final)


def _mixed_codec(name: str) -> codecs.CodecInfo | None:
    if name.replace("_", "-") != MIXED_ENCODING:
        return None
    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        name=MIXED_ENCODING,
        encode=utf8.encode,
        decode=lambda data, errors="strict": codecs.utf_8_decode(data, "undertow-cp1252", True),
        incrementalencoder=utf8.incrementalencoder,
        incrementaldecoder=_MixedDecoder,
        streamreader=utf8.streamreader,
        streamwriter=utf8.streamwriter,
    )


codecs.register_error("undertow-cp1252", _cp1252_fallback)
codecs.register(_mixed_codec)


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest: its format, encoding and content hash (sha256 of the bytes read).

    ``path`` is what the readers read; ``origin`` the file the user named when that
    differs (a ``.gz`` file, read from its decompressed ``path``)."""

    path: Path
    format: str  # csv | jsonl | json
    encoding: str
    file_hash: str
    size: int
    origin: Path | None = None
    max_quoted_lines: int = DEFAULT_MAX_QUOTED_LINES

    @property
    def named(self) -> Path:
        """The path as the user gave it (for provenance and messages)."""
        return self.origin or self.path

    def discard(self) -> None:
        """Delete the decompressed copy of a ``.gz`` file (nothing for a plain file)."""
        if self.origin is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)


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
        encoding = "utf-8" if utf8 else MIXED_ENCODING
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


_ARCHIVES = {  # magic bytes of containers no reader reads -> what to do instead
    b"PK\x03\x04": "a ZIP archive or an Excel workbook: unzip it, or export the sheet as CSV",
    b"BZh": "a bzip2 archive: decompress it first (bunzip2)",
    b"\xfd7zXZ": "an xz archive: decompress it first (unxz)",
}


def check_path(path: Path | str) -> Path:
    """``path`` if it is a regular file; an InputError that names what it is otherwise
    (missing, a directory, a device such as /dev/zero, a pipe). Reads no byte."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{p}: no such file (give the path of a CSV or JSON Lines file)") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read the file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{p}: is a directory; give the path of a file in it")
    if not stat.S_ISREG(mode):
        what = "a pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"  # fmt: skip
        raise InputError(f"{p}: is {what}, not a regular file; give the path of a file")
    return p


def _gunzip(p: Path) -> Path:
    """Decompress ``p`` into a new temporary folder; returns the file's path there."""
    limit = max(1 << 20, p.stat().st_size * GZIP_MAX_RATIO)
    inner = p.name[:-3] if p.name.lower().endswith(".gz") else p.name + ".csv"
    folder = Path(tempfile.mkdtemp(prefix="undertow-gz-"))
    out = folder / (inner or "data.csv")
    written = 0
    try:
        with gzip.open(p, "rb") as src, out.open("wb") as dst:
            while block := src.read(_BLOCK):
                written += len(block)
                if written > limit:
                    raise InputError(
                        f"{p}: decompresses to more than {GZIP_MAX_RATIO} times its size; "
                        "decompress it yourself if that is intended"
                    )
                dst.write(block)
    except (OSError, EOFError, zlib.error) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise InputError(f"{p}: not a readable gzip file ({exc})") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return out


def open_source(path: Path | str, max_quoted_lines: int = DEFAULT_MAX_QUOTED_LINES) -> SourceFile:
    """Inspect ``path``: format from the extension (or the first character), encoding,
    hash. A path that is not a readable regular file is an InputError; a gzip file is
    decompressed to a temporary file (``SourceFile.discard`` deletes it)."""
    p = check_path(path)
    try:
        with p.open("rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise InputError(f"{p}: cannot read the file ({exc.strerror or exc})") from exc
    for start, what in _ARCHIVES.items():
        if magic.startswith(start):
            raise InputError(f"{p}: is {what}")
    if magic.startswith(b"\x1f\x8b"):
        plain = _gunzip(p)
        try:
            src = _inspect(plain, max_quoted_lines)
        except BaseException:
            shutil.rmtree(plain.parent, ignore_errors=True)
            raise
        return SourceFile(
            src.path, src.format, src.encoding, src.file_hash, src.size, p, max_quoted_lines
        )
    return _inspect(p, max_quoted_lines)


def _inspect(p: Path, max_quoted_lines: int) -> SourceFile:
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
    return SourceFile(p, fmt, encoding, file_hash, size, max_quoted_lines=max_quoted_lines)


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


@dataclass
class QuoteGuard:
    """Where ``csv.reader`` stands in the lines ``guarded_lines`` hands it, counted from 1.

    ``start`` is the first line of the record being read; the caller sets it to
    ``line + 1`` after every record (``csv_chunks`` does). A record that is still open
    after ``max_lines`` lines, or at the end of the text when ``eof_closes`` (the end of
    the file, not of a piece of it), is ended by force: ``cut`` is its first line
    (``cut_raw`` that line's text) and its other lines are handed out again."""

    max_lines: int = DEFAULT_MAX_QUOTED_LINES
    eof_closes: bool = True
    line: int = 0
    start: int = 1
    cut: int | None = None
    cut_raw: str = ""
    first: str = ""
    again: list[str] = field(default_factory=list)  # lines to hand out again, last first

    def _end_record(self, held: list[str]) -> str:
        self.cut, self.cut_raw = self.start, held[0].rstrip("\r\n")
        self.again.extend(reversed(held[1:]))
        self.line = self.start
        return '"\n'  # closes the open quoted field and the record


def guarded_lines(lines: Iterable[str], guard: QuoteGuard) -> Iterator[str]:
    """``lines`` for ``csv.reader``, with unterminated quotes cut (see ``QuoteGuard``)."""
    it = iter(lines)
    again = guard.again
    spill: list[str] | None = None  # the lines of a record that spans lines
    while True:
        if again:
            line = again.pop()
        else:
            got = next(it, None)
            if got is None:
                if guard.eof_closes and guard.line >= guard.start:  # a record still open
                    yield guard._end_record(spill or [guard.first])
                    spill = None
                    continue
                return
            line = got
        n = guard.line + 1
        if n == guard.start:
            guard.first, spill = line, None
        else:
            if spill is None:
                spill = [guard.first]
            spill.append(line)
            if n - guard.start >= guard.max_lines:
                yield guard._end_record(spill)
                spill = None
                continue
        guard.line = n
        yield line


def csv_reader(
    lines: Iterable[str], delimiter: str, max_lines: int, eof_closes: bool = True
) -> tuple[Any, QuoteGuard]:
    """A ``csv.reader`` over ``lines`` behind a ``QuoteGuard``, and the guard."""
    guard = QuoteGuard(max_lines=max_lines, eof_closes=eof_closes)
    return csv.reader(guarded_lines(lines, guard), delimiter=delimiter, strict=False), guard


def csv_chunks(
    reader: Any, guard: QuoteGuard, header: list[str], skip_rows: int, chunk_rows: int, base: int
) -> Iterator[RawChunk]:
    """The records ``reader`` yields after the header, in chunks. Line numbers are
    ``base`` + the guard's own."""
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
            bad.append(BadRow(base + guard.start, "", f"{UNREADABLE_ROW}: {exc}"))
            guard.start = guard.line + 1
            continue
        start = guard.start
        guard.start = guard.line + 1
        if guard.cut is not None:
            line = base + guard.cut
            bad.append(BadRow(line, guard.cut_raw, f"{UNTERMINATED} {line}"))
            guard.cut = None
        elif not row or (len(row) == 1 and row[0] == ""):
            continue  # a blank line is no record
        elif skip_rows > 0:
            skip_rows -= 1
            continue
        elif len(row) > width and any(c.strip() for c in row[width:]):
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


def read_header(reader: Any, guard: QuoteGuard, path: Path) -> list[str]:
    """The first non-empty row, cleaned ([] for a file without one)."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return []
        except csv.Error as exc:
            raise InputError(f"{path}: unreadable CSV header ({exc})") from exc
        guard.start = guard.line + 1
        if guard.cut is not None:
            raise InputError(f"{path}: unterminated quote in the CSV header (line {guard.cut})")
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
    bound = source.max_quoted_lines
    if resume is not None:
        with resume.open_text(source) as fh:
            reader, guard = csv_reader(fh, resume.delimiter, bound)
            base = resume.line - 1
            yield from csv_chunks(reader, guard, resume.header or [], skip_rows, chunk_rows, base)
        return
    delimiter = csv_delimiter(source)
    with source.path.open("r", encoding=source.encoding, errors="replace", newline="") as fh:
        reader, guard = csv_reader(fh, delimiter, bound)
        header = read_header(reader, guard, source.path)
        yield from csv_chunks(reader, guard, header, skip_rows, chunk_rows, 0)


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
