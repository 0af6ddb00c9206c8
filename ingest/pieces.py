"""Big CSV and JSON Lines files cut into pieces (byte ranges) that workers read themselves.

Reading a file in one process and shipping its records to worker processes costs more
CPU than reading them (parse, pack, unpack: about 7 us a row), all of it in the process
that also writes the store. Instead the parent only plans: it scans the bytes for a
line end near each target size, counts lines on the way (so every record keeps its true
file line), and hands out ``(offset, size, first line)``; a worker reads, decodes and
parses its piece itself. Scanning is ``bytes.find``/``count``, in C.

A CSV line end is a record boundary when an even number of quote characters precedes it
(quoted fields double their inner quotes). A stray quote in an unquoted field (``5"
screen``, which Python's csv reader keeps as text) breaks that rule, so a piece's own
parse proves it: a sentinel line appended after the piece parses as a record of its own
only if the piece ended between records. A piece that does not (``PieceRows.clean`` is
False) and everything planned after it is discarded, and the rest of the file is read
in order from that piece's start, which is a proven boundary (``Resume``). So the records,
their lines and the quarantine are exactly those of a plain front-to-back read.

JSON Lines pieces end at any line end (JSON strings hold no raw line breaks). Bytes are
scanned as bytes, so pieces need an encoding in which a line end or a quote is always
that one byte: UTF-8 (with or without BOM), Windows-1252 and Latin-1; UTF-16 files are
read front to back.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import InputError
from ingest.readers import (
    UNREADABLE_ROW,
    RawChunk,
    Resume,
    SourceFile,
    csv_chunks,
    csv_delimiter,
    csv_reader,
    jsonl_chunks,
    read_header,
)

SAMPLE_BYTES = 1 << 20  # read to learn the header and the bytes per record
SPLITTABLE = {"utf-8", "utf-8-sig", "utf-8-cp1252", "cp1252", "latin-1"}
SENTINEL = "\x1eundertow-piece-end\x1e"
MAX_PIECE_FACTOR = 8  # no record boundary within this many target sizes: stop planning
_BLOCK = 8 << 20
_ALL = 1 << 62  # "chunk rows" that put all of a text's records into one chunk


@dataclass(frozen=True)
class Piece:
    """Bytes ``[offset, offset + size)`` of a file, starting a record on line ``line``."""

    offset: int
    size: int
    line: int


@dataclass(frozen=True)
class Layout:
    """What a piece reader must know of a file: its format and encoding, where the
    records start (``start``: after the header and skipped rows, with the header), and
    the bytes per record of a sample."""

    path: str
    format: str
    encoding: str
    max_quoted_lines: int
    start: Resume
    bytes_per_record: float
    sample: RawChunk  # the first records, for the column check

    def estimated_records(self, file_size: int) -> int:
        return int((file_size - self.start.offset) / self.bytes_per_record)


@dataclass
class PieceRows:
    """A piece's records; ``clean``: it ended between records (see the module text)."""

    chunk: RawChunk
    clean: bool


def _line_ends(data: bytes, start: int = 0, end: int | None = None) -> int:
    """Line ends in ``data[start:end]`` as the readers count them: CRLF, CR or LF."""
    end = len(data) if end is None else end
    lf = data.count(b"\n", start, end)
    if data.find(b"\r", start, end) == -1:  # most files: LF only, one pass
        return lf
    return lf + data.count(b"\r", start, end) - data.count(b"\r\n", start, end)


def _offset_of_line(data: bytes, line: int) -> int:
    """Byte offset where physical line ``line`` (1-based) of ``data`` starts."""
    pos = 0
    for _ in range(line - 1):
        cr, lf = data.find(b"\r", pos), data.find(b"\n", pos)
        if lf == -1 or (cr != -1 and cr < lf):  # CR, or CRLF
            if cr == -1:
                return len(data)
            pos = cr + 2 if data[cr + 1 : cr + 2] == b"\n" else cr + 1
        else:
            pos = lf + 1
    return pos


def layout(source: SourceFile, skip_rows: int) -> Layout | None:
    """The layout of a file that can be read in pieces, from a sample of its first
    ``SAMPLE_BYTES``; None when it cannot (format, encoding, or no whole record in the
    sample)."""
    if source.format not in {"csv", "jsonl"} or source.encoding not in SPLITTABLE:
        return None
    with source.path.open("rb") as fh:
        data = fh.read(SAMPLE_BYTES)
    if len(data) < source.size:
        data = data[: data.rfind(b"\n") + 1]  # whole lines only
    text = data.decode(source.encoding, errors="replace")
    if source.format == "csv":
        delimiter = csv_delimiter(source)
        whole = len(data) == source.size
        reader, guard = csv_reader(
            io.StringIO(text, newline=""), delimiter, source.max_quoted_lines, eof_closes=whole
        )
        try:
            header = read_header(reader, guard, source.path)
        except InputError:  # the front-to-back reader reports it
            return None
        sample = next(csv_chunks(reader, guard, header, skip_rows, _ALL, 0))
        if not sample.rows:
            return None
        first = sample.lines[0]
        if sample.bad and sample.bad[0].line < first:
            if skip_rows:  # an unreadable row among the skipped ones: keep it simple
                return None
            first = sample.bad[0].line
        start = Resume(_offset_of_line(data, first), first, header, delimiter)
    else:
        sample = next(jsonl_chunks(io.StringIO(text, newline=None), 1, _ALL))
        if sample.size == 0:
            return None
        start = Resume(0, 1)
    per_record = max(1.0, (len(data) - start.offset) / sample.size)
    return Layout(
        str(source.path),
        source.format,
        source.encoding,
        source.max_quoted_lines,
        start,
        per_record,
        sample,
    )


def _boundary(buf: bytes, at: int, quoted: bool) -> int:
    """The offset just past the first line end at or after ``at`` that ends a record
    (an even number of quotes before it, for CSV); -1 when ``buf`` holds none."""
    pos = buf.find(b"\n", max(0, at - 1))
    if not quoted or pos == -1:
        return pos + 1 if pos != -1 else -1
    odd = buf.count(b'"', 0, pos) & 1
    while odd:
        nxt = buf.find(b"\n", pos + 1)
        if nxt == -1:
            return -1
        odd ^= buf.count(b'"', pos, nxt) & 1
        pos = nxt
    return pos + 1


def plan(lay: Layout, sizes: Iterator[int]) -> Iterator[Piece | Resume]:
    """Pieces of about the given sizes (bytes) from the first record on, in file order.
    Ends with a ``Resume`` where no record boundary is found within ``MAX_PIECE_FACTOR``
    sizes (the rest is read front to back)."""
    quoted = lay.format == "csv"
    offset, line = lay.start.offset, lay.start.line
    buf, eof = b"", False
    with Path(lay.path).open("rb") as fh:
        fh.seek(offset)
        for size in sizes:
            while len(buf) <= size and not eof:
                more = fh.read(max(_BLOCK, size + 1 - len(buf)))
                eof, buf = not more, buf + more
            if not buf:
                return
            end = _boundary(buf, size, quoted) if len(buf) > size else len(buf)
            while end == -1:
                if eof:
                    end = len(buf)  # the last piece: it ends where the file does
                elif len(buf) > MAX_PIECE_FACTOR * size:
                    yield Resume(offset, line, lay.start.header, lay.start.delimiter)
                    return
                else:
                    more = fh.read(_BLOCK)
                    eof, buf = not more, buf + more
                    end = _boundary(buf, size, quoted)
            yield Piece(offset, end, line)
            offset, line = offset + end, line + _line_ends(buf, 0, end)
            buf = buf[end:]
            if eof and not buf:
                return


def piece_sizes(lay: Layout, chunk_rows: int) -> Iterator[int]:
    """Bytes per piece: ``chunk_rows`` records' worth, the first few smaller (1/8, 1/4,
    1/2) so that the writer starts early."""
    full = max(1, int(lay.bytes_per_record * chunk_rows))
    for part in (8, 4, 2):
        yield max(1, full // part)
    while True:
        yield full


def read_piece(lay: Layout, piece: Piece) -> PieceRows:
    """A piece's records (one chunk) and whether it ended between records."""
    with Path(lay.path).open("rb") as fh:
        fh.seek(piece.offset)
        data = fh.read(piece.size)
    encoding = "utf-8" if lay.encoding == "utf-8-sig" and piece.offset else lay.encoding
    text = data.decode(encoding, errors="replace")
    if lay.format == "jsonl":
        lines = io.StringIO(text, newline=None)
        return PieceRows(next(jsonl_chunks(lines, piece.line, _ALL)), True)
    header = lay.start.header or []
    last_piece = not text.endswith(("\n", "\r"))  # it ends where the file does
    if not last_piece:
        text += SENTINEL + "\n"
    reader, guard = csv_reader(
        io.StringIO(text, newline=""),
        lay.start.delimiter,
        lay.max_quoted_lines,
        eof_closes=last_piece,  # the end of another piece is no end of a record
    )
    chunk = next(csv_chunks(reader, guard, header, 0, _ALL, piece.line - 1))
    if last_piece:  # read to the end, as a front-to-back read would
        return PieceRows(chunk, True)
    # the last record is the sentinel alone exactly when the piece ended between records
    # (else the sentinel is inside a quoted field of the piece's last record)
    clean = (
        bool(chunk.rows)
        and chunk.rows[-1][0] == SENTINEL
        and not any(chunk.rows[-1][1:])
        and not any(b.reason.startswith(UNREADABLE_ROW) for b in chunk.bad)
    )  # a quote cut by the line bound is cut alike in a front-to-back read
    if clean:
        chunk.rows.pop()
        chunk.lines.pop()
    return PieceRows(chunk, clean)
