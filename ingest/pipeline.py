"""Ingest: read -> map -> validate -> resolve -> store, chunk by chunk, in transactions.

``ingest_paths`` ingests files (CSV, JSON Lines, JSON); ``ingest_records`` ingests a list
of canonical records (the HTTP API). Both return an ``IngestSummary`` for which always
``read = inserted + duplicates + rejected``:

- *inserted*: new records stored;
- *duplicates*: rows whose source id or content is already stored (decided by the
  database's unique constraints, so concurrent ingests of one file double nothing), or
  that repeat an id of an earlier row of the same file (the first row wins);
- *updated* (a part of *duplicates*, never of *inserted*): rows of a restated kind
  (accounts, leads, experiments, spend: ``ingest.upsert``) whose record was stored by an
  earlier ingest with other values, and was corrected in place;
- *rejected*: rows sent to quarantine with their original content, file, line and reason;
- *unresolved*: accepted rows (inserted or duplicate) that resolve to no account.

Each chunk commits in one transaction together with its ``ingest_runs`` counters: a
killed ingest leaves the store consistent and a rerun completes it, inserting only what
is missing. A run stopped by Ctrl-C or SIGTERM (``undertow ingest`` turns SIGTERM into
KeyboardInterrupt) is marked 'interrupted' on its way out; one killed outright stays
'running', and the next ingest of the same file marks it 'interrupted' when its process
(``ingest_runs.owner``, "host:pid") is gone.
After an accounts ingest, stored documents, surveys, leads and opportunities that were
unresolved are resolved again.

Spend has no id: a figure is identified by its ``natural_key`` (date, channel, campaign,
segment, currency). A later ingest with another figure for a stored key corrects it in
place (*updated*); within one file, a key repeated with other values is ambiguous (two
campaigns the export did not tell apart, or a typo): the later row goes to quarantine
with the line of the first, and an identical repeat is a duplicate. (Accounts, leads
and experiments have ids: there the first row of a repeated id in a file wins and the
later ones are duplicates.)
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import URL, Connection, Dialect, Engine, Index, Table, select, update

from ingest import column_frames
from ingest.bulk import drop_plain_indexes, estimate_rows, rebuild_after_load, should_defer
from ingest.db.schema import (
    accounts,
    documents,
    experiments,
    ingest_runs,
    leads,
    metadata,
    opportunities,
    quarantine,
    spend,
    surveys,
)
from ingest.errors import InputError
from ingest.mapping import (
    Mapping,
    check_columns,
    check_mapping,
    identity_mapping,
    load_mapping,
    to_frame,
)
from ingest.pieces import Layout, Piece, layout, piece_sizes, plan, read_piece
from ingest.quarantine import purge as purge_quarantine
from ingest.readers import (
    DEFAULT_CHUNK_ROWS,
    BadRow,
    RawChunk,
    Resume,
    SourceFile,
    cells_as_json,
    check_path,
    open_source,
    read_chunks,
)
from ingest.records import KindSpec, spec_for
from ingest.resolve import AccountIndex, account_refs, ref_json, reresolve, resolve
from ingest.rows import (
    Provenance,
    account_rows,
    digest,
    document_rows,
    experiment_rows,
    lead_rows,
    opportunity_rows,
    spend_rows,
    survey_rows,
)
from ingest.settings import Settings
from ingest.upsert import upsert
from ingest.validate import validate
from ingest.workers import Workers, pack, unpack, worker_count
from ingest.writer import (
    Columns,
    PreparedInsert,
    insert_ignore,
    prepare_insert,
    run_insert,
    take_rows,
)

ProgressFn = Callable[[int], None]
_AHEAD = 2  # chunks prepared ahead of the writer by worker processes (memory bound)
PARALLEL_MIN_ROWS = 200_000  # files this big prepare their chunks in worker processes
PARALLEL_MIN_BYTES = 32 << 20  # files this big start their workers before being hashed
_MAX_SOURCE = 64


@dataclass
class IngestSummary:
    """What an ingest did; ``read == inserted + duplicates + rejected``."""

    kind: str
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unresolved: int = 0
    updated: int = 0
    reresolved: int = 0
    files: list[str] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: IngestSummary) -> None:
        for name in (
            "read",
            "inserted",
            "duplicates",
            "rejected",
            "unresolved",
            "updated",
            "reresolved",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.files += other.files
        self.run_ids += other.run_ids

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        out["rows_per_second"] = round(self.read / self.seconds, 1) if self.seconds > 0 else None
        return out


@dataclass
class _Context:
    spec: KindSpec
    mapping: Mapping
    source: str
    source_file: str
    run_id: int | None
    max_chars: int
    index: AccountIndex
    dialect: Dialect
    not_after: datetime | None = None  # event dates after this are quarantined
    # restated kinds: key -> (compared values for a natural key, line) of the file's
    # first row of the key so far (``_file_repeats``)
    seen: dict[tuple[Any, ...], tuple[tuple[Any, ...], int]] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _not_after(settings: Settings) -> datetime:
    """The latest event date an ingest starting now accepts (see ``KindSpec.past_only``)."""
    return _now() + timedelta(days=settings.future_tolerance_days)


def _default_source(source: str | None, mapping: Mapping, fmt: str) -> str:
    name = (source or mapping.vendor or fmt).strip().lower()
    if not name or len(name) > _MAX_SOURCE:
        raise InputError(f"--source must be 1 to {_MAX_SOURCE} characters, got {name!r}")
    return name


# ----------------------------------------------------------------- one chunk
def _quarantine(conn: Connection, ctx: _Context, items: list[tuple[int, str, str]]) -> None:
    if not items:
        return
    now = _now()
    insert_ignore(
        conn,
        quarantine,
        {
            "ingest_run_id": [ctx.run_id] * len(items),
            "kind": [ctx.spec.kind] * len(items),
            "source_file": [ctx.source_file] * len(items),
            "source_line": [line for line, _, _ in items],
            "raw": [raw for _, raw, _ in items],
            "row_hash": [digest(raw) for _, raw, _ in items],
            "reason": [reason[:2000] for _, _, reason in items],
            "created_at": [now] * len(items),
        },
    )


def _row_hashes(chunk: RawChunk, positions: list[int]) -> list[str]:
    if chunk.header is not None:
        return [digest("\x1f".join(chunk.rows[i])) for i in positions]
    return [digest(json.dumps(chunk.rows[i], sort_keys=True, default=str)) for i in positions]


def _sources(good: pd.DataFrame, ctx: _Context) -> list[str]:
    if "source" in good:
        return [s.lower() if s else ctx.source for s in good["source"].tolist()]
    return [ctx.source] * len(good)


@dataclass
class _Counts:
    inserted: int = 0
    duplicates: int = 0
    unresolved: int = 0


def _document_table_rows(
    ctx: _Context, good: pd.DataFrame, prov: Provenance
) -> tuple[Columns, int]:
    """(documents rows, unresolved count): needs no database, so it runs ahead."""
    refs = account_refs(good)
    account, how = resolve(refs, ctx.index)
    acc, by = account.tolist(), how.tolist()
    rows = document_rows(good, ctx.spec, prov, acc, by, refs, ctx.max_chars)
    return rows, sum(a is None for a in acc)


def _opportunity_table_rows(
    ctx: _Context, good: pd.DataFrame, prov: Provenance
) -> tuple[Columns, int]:
    rows = opportunity_rows(good, prov, ctx.index.ids)
    return rows, sum(by is None for by in rows["resolved_by"])


def _survey_document_ids(conn: Connection, docs: Columns) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    ids, hashes = docs["source_id"], docs["content_hash"]
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for r in conn.execute(
            select(documents.c.id, documents.c.source, documents.c.source_id).where(
                documents.c.kind == "survey", documents.c.source_id.in_(part)
            )
        ):
            found[(r.source, r.source_id)] = r.id
    by_hash: dict[str, list[tuple[str, str]]] = {}  # responses whose text is stored
    for s, i, h in zip(docs["source"], ids, hashes, strict=True):  # under another id
        if (s, i) not in found:
            by_hash.setdefault(h, []).append((s, i))
    hlist = list(by_hash)
    for start in range(0, len(hlist), 500):
        for hit in conn.execute(
            select(documents.c.id, documents.c.content_hash).where(
                documents.c.kind == "survey",
                documents.c.content_hash.in_(hlist[start : start + 500]),
            )
        ):
            for key in by_hash[hit.content_hash]:
                found[key] = hit.id
    return found


def _store_surveys(
    conn: Connection, ctx: _Context, good: pd.DataFrame, prov: Provenance
) -> _Counts:
    refs = account_refs(good)
    account, how = resolve(refs, ctx.index)
    acc, by = account.tolist(), how.tolist()
    with_comment = [i for i, c in enumerate(good["comment"].tolist()) if c.strip()]
    doc_ids: list[int | None] = [None] * len(good)
    if with_comment:
        docs = document_rows(good, ctx.spec, prov, acc, by, refs, ctx.max_chars, keep=with_comment)
        insert_ignore(conn, documents, docs, order_by="content_hash")
        found = _survey_document_ids(conn, docs)
        for pos, key in zip(
            with_comment, zip(docs["source"], docs["source_id"], strict=True), strict=True
        ):
            doc_ids[pos] = found.get(key)
    rows = survey_rows(good, prov, acc, by, ref_json(refs), doc_ids)
    inserted = insert_ignore(conn, surveys, rows)
    return _Counts(inserted, len(good) - inserted, sum(a is None for a in acc))


def _account_table_rows(ctx: _Context, good: pd.DataFrame, prov: Provenance) -> tuple[Columns, int]:
    return account_rows(good, prov, _now()), 0


def _lead_table_rows(ctx: _Context, good: pd.DataFrame, prov: Provenance) -> tuple[Columns, int]:
    refs = account_refs(good)
    account, how = resolve(refs, ctx.index)
    acc = account.tolist()
    rows = lead_rows(good, prov, acc, how.tolist(), ref_json(refs), _now())
    return rows, sum(a is None for a in acc)


def _spend_table_rows(ctx: _Context, good: pd.DataFrame, prov: Provenance) -> tuple[Columns, int]:
    return spend_rows(good, ctx.spec, prov, _now()), 0


def _experiment_table_rows(
    ctx: _Context, good: pd.DataFrame, prov: Provenance
) -> tuple[Columns, int]:
    return experiment_rows(good, prov, _now()), 0


@dataclass(frozen=True)
class _Restated:
    """A kind stored by key and corrected in place (``ingest.upsert``): its table, row
    builder (no database), key, and the columns whose change is a correction."""

    table: Table
    build: Callable[[_Context, pd.DataFrame, Provenance], tuple[Columns, int]]
    key: tuple[str, ...]
    compared: tuple[str, ...]


_RESTATED = {
    "accounts": _Restated(
        accounts,
        _account_table_rows,
        ("account_id",),
        (
            "name",
            "domain",
            "segment",
            "arr",
            "currency",
            "contract_start",
            "churned_at",
            "tracked_source",
        ),
    ),
    "leads": _Restated(
        leads,
        _lead_table_rows,
        ("source", "lead_id"),
        (
            "account_id",
            "resolved_by",
            "account_ref",
            "email_hash",
            "created_at",
            "mql_at",
            "sql_at",
            "opportunity_id",
            "tracked_source",
            "segment",
        ),
    ),
    "spend": _Restated(
        spend, _spend_table_rows, ("natural_key",), ("spend", "impressions", "clicks")
    ),
    "experiments": _Restated(
        experiments,
        _experiment_table_rows,
        ("source", "experiment_id"),
        (
            "channel",
            "start_date",
            "end_date",
            "spend_delta",
            "outcome",
            "lift",
            "lift_low",
            "lift_high",
            "design",
        ),
    ),
}


def _file_repeats(
    ctx: _Context, rows: Columns, lines: list[int], raw: Callable[[int], str]
) -> tuple[Columns, int, list[tuple[int, str, str]]]:
    """The rows of a key that an earlier row of the file (this chunk or an earlier one)
    already gave, taken out (module docstring): of a kind with ids the first row of an id
    wins and the later ones are duplicates; of spend (a natural key) a later row with other
    values goes to quarantine naming the first's line, and an identical one is a
    duplicate. Returns the rest, how many duplicates were taken out, and the quarantined
    rows."""
    how = _RESTATED[ctx.spec.kind]
    natural = bool(ctx.spec.natural_key)
    keys = list(zip(*(rows[c] for c in how.key), strict=True))
    values = (
        list(zip(*(rows[c] for c in how.compared), strict=True)) if natural else [()] * len(keys)
    )
    keep: list[int] = []
    repeated = 0
    bad: list[tuple[int, str, str]] = []
    names = ", ".join(ctx.spec.natural_key)
    for i, (key, vals) in enumerate(zip(keys, values, strict=True)):
        first = ctx.seen.get(key)
        if first is None:
            ctx.seen[key] = (vals, lines[i])
            keep.append(i)
        elif not natural or first[0] == vals:
            repeated += 1
        else:
            bad.append(
                (
                    lines[i],
                    raw(i),
                    f"repeats the {names} of line {first[1]} with other values: give each "
                    "figure its own campaign or segment, or sum them into one row",
                )
            )
    if len(keep) == len(keys):
        return rows, 0, bad
    return take_rows(rows, keep), repeated, bad


# Kinds whose table rows are built without the database (ahead of the writer), and the
# kinds whose storing needs lookups in the same transaction.
_PREBUILT = {
    "reviews": (documents, _document_table_rows),
    "tickets": (documents, _document_table_rows),
    "attribution": (documents, _document_table_rows),
    "opportunities": (opportunities, _opportunity_table_rows),
}
_STORE = {"surveys": _store_surveys}


@dataclass
class _Prepared:
    """A chunk read, mapped and validated; what is left is the transaction."""

    read: int
    bad: list[tuple[int, str, str]]
    good: pd.DataFrame | None = None
    prov: Provenance | None = None
    insert: PreparedInsert | None = None  # the table rows, ready for the driver
    restated: Columns | None = None  # the rows of a kind stored by key (``_RESTATED``)
    repeated: int = 0  # rows of a key given by an earlier row of the file: duplicates
    unresolved: int = 0
    accepted: int = 0  # rows that passed validation


def _prepare_chunk(ctx: _Context, chunk: RawChunk) -> _Prepared:
    """Map, validate and (where no lookup is needed) build table rows: no database."""
    prep = _Prepared(chunk.size, [(b.line, b.raw, b.reason) for b in chunk.bad])
    if not chunk.rows:
        return prep
    frame = to_frame(chunk, ctx.mapping, ctx.spec)
    checked = validate(frame, ctx.spec, ctx.mapping.date_formats, ctx.not_after)
    for pos, reason in checked.rejected.items():
        prep.bad.append((chunk.lines[pos], cells_as_json(chunk.header, chunk.rows[pos]), reason))
    if not len(checked.frame):
        return prep
    positions = checked.positions
    prep.accepted = len(checked.frame)
    prep.good = checked.frame
    prep.prov = Provenance(
        source=_sources(prep.good, ctx),
        source_file=ctx.source_file,
        lines=[chunk.lines[i] for i in positions],
        row_hashes=_row_hashes(chunk, positions),
        run_id=ctx.run_id,
    )
    if ctx.spec.kind in _PREBUILT:
        table, build = _PREBUILT[ctx.spec.kind]
        rows, prep.unresolved = build(ctx, prep.good, prep.prov)
        order = "content_hash" if table is documents else None
        prep.insert = prepare_insert(ctx.dialect, table, rows, order_by=order)
    elif ctx.spec.kind in _RESTATED:
        rows, prep.unresolved = _RESTATED[ctx.spec.kind].build(ctx, prep.good, prep.prov)

        def raw(i: int) -> str:  # the original row of the i-th valid one
            return cells_as_json(chunk.header, chunk.rows[positions[i]])

        rows, prep.repeated, repeats = _file_repeats(ctx, rows, prep.prov.lines, raw)
        prep.bad += repeats
        prep.accepted -= len(repeats)
        prep.restated = rows
    return prep


def _write_chunk(conn: Connection, ctx: _Context, prep: _Prepared) -> IngestSummary:
    """The chunk's transaction: rows, quarantine; returns its counts."""
    out = IngestSummary(ctx.spec.kind, read=prep.read)
    if prep.insert is not None:
        inserted = run_insert(conn, prep.insert)
        out.inserted, out.duplicates = inserted, prep.accepted - inserted
        out.unresolved = prep.unresolved
    elif prep.restated is not None:
        how = _RESTATED[ctx.spec.kind]
        done = upsert(conn, how.table, prep.restated, how.key, how.compared)
        out.inserted, out.updated = done.inserted, done.updated
        out.duplicates = done.duplicates + prep.repeated
        out.unresolved = prep.unresolved
    elif prep.good is not None and prep.prov is not None:
        counts = _STORE[ctx.spec.kind](conn, ctx, prep.good, prep.prov)
        out.inserted, out.duplicates = counts.inserted, counts.duplicates
        out.unresolved = counts.unresolved
    _quarantine(conn, ctx, prep.bad)
    out.rejected = len(prep.bad)
    assert out.read == out.inserted + out.duplicates + out.rejected, "unaccounted rows"
    return out


def _worker_processes(workers: int | None) -> int:
    return worker_count() if workers is None else workers


# Big files of these kinds are prepared in worker processes (``ingest.workers``): pieces
# that the workers read themselves (``ingest.pieces``), or chunks read here.
@dataclass
class _WorkerState:
    ctx: _Context
    layout: Layout | None  # set when the workers read pieces of the file


def _worker_context(payload: tuple[_Context, str, Layout | None]) -> _WorkerState:
    """A worker's state: the parent's context, with a dialect of the same driver (a
    dialect object does not travel between processes), and the file's layout."""
    ctx, drivername, lay = payload
    return _WorkerState(replace(ctx, dialect=URL.create(drivername).get_dialect()()), lay)


def _chunk_blob(chunk: RawChunk) -> bytes:
    bad = [(b.line, b.raw, b.reason) for b in chunk.bad]
    return pack((chunk.header, chunk.rows, chunk.lines, bad))


def _packed(prep: _Prepared) -> bytes:
    """A prepared chunk as plain data: the insert is all the writer needs."""
    ins = prep.insert
    insert = None
    if ins is not None:  # the table's name is a str subclass, which marshal refuses
        parts = column_frames.encode(ins.columns)
        insert = (str(ins.table.name), ins.rows, ins.names, parts, ins.params, ins.order_by,
                  ins.order)  # fmt: skip
    return pack((prep.read, prep.bad, prep.unresolved, prep.accepted, insert))


def _prepare_in_worker(state: _WorkerState, blob: bytes) -> bytes:
    """A chunk read by the parent, prepared in a worker."""
    header, rows, lines, bad = unpack(blob)
    return _packed(
        _prepare_chunk(state.ctx, RawChunk(header, rows, lines, [BadRow(*b) for b in bad]))
    )


def _prepare_piece_in_worker(state: _WorkerState, piece: tuple[int, int, int]) -> bytes | None:
    """A piece read and prepared in a worker; None when it did not end between records
    (the parent then reads on from its start itself)."""
    assert state.layout is not None
    got = read_piece(state.layout, Piece(*piece))
    return _packed(_prepare_chunk(state.ctx, got.chunk)) if got.clean else None


def _prepared_from(blob: bytes) -> _Prepared:
    read, bad, unresolved, accepted, insert = unpack(blob)
    prep = _Prepared(read, [tuple(b) for b in bad], unresolved=unresolved, accepted=accepted)
    if insert is not None:
        name, rows, names, parts, params, order_by, order = insert
        columns = column_frames.decode(parts)
        table = metadata.tables[name]
        prep.insert = PreparedInsert(table, rows, names, columns, params, order_by, order)
    return prep


def _start_workers(
    engine: Engine, ctx: _Context, work: _Work, workers: int | None, pool: Workers | None
) -> Workers | None:
    """Worker processes for a kind whose rows are built without the database: ``pool``
    (started early for a big file) or new ones for a file of at least
    ``PARALLEL_MIN_ROWS`` records (starting one costs about a second)."""
    if ctx.spec.kind not in _PREBUILT:
        return None
    payload = (replace(ctx, dialect=None), engine.url.drivername, work.layout)  # type: ignore[arg-type]
    if pool is not None:
        pool.configure(_worker_context, payload)
        return pool
    count = _worker_processes(workers)
    if count <= 0 or work.expected < PARALLEL_MIN_ROWS:
        return None
    return Workers(count, _worker_context, payload)


def _early_workers(kind: str, paths: list[Path], workers: int | None) -> Workers | None:
    """Worker processes started before the files are hashed, so that their imports (about
    a second) overlap that pass, when a file is surely big enough to want them."""
    count = _worker_processes(workers)
    if count <= 0 or kind not in _PREBUILT:
        return None
    sizes = []
    for p in paths:
        try:
            sizes.append(Path(p).stat().st_size)
        except OSError:  # reported by open_source
            sizes.append(0)
    if max(sizes, default=0) < PARALLEL_MIN_BYTES:
        return None
    return Workers(count, preload=("ingest.pipeline",))


@dataclass
class _Work:
    """What a file is ingested as: pieces that workers read (``layout`` set), or chunks
    read here; ``first`` (records of the start of the file) is what the columns are
    checked against, ``expected`` about how many records it holds."""

    first: RawChunk
    expected: int
    items: Iterator[RawChunk | Piece | Resume]
    source: SourceFile | None = None
    layout: Layout | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS

    def read_on(self, start: Resume | Piece) -> Iterator[RawChunk]:
        """Chunks from a record boundary on (the start of a piece that did not end
        between records, or where no boundary was found), read here."""
        assert self.source is not None and self.layout is not None
        if isinstance(start, Piece):
            start = replace(self.layout.start, offset=start.offset, line=start.line)
        return read_chunks(self.source, self.chunk_rows, resume=start)


def _chunks_work(
    chunks: Iterator[RawChunk], chunk_rows: int, source: SourceFile | None = None
) -> _Work:
    first = next(chunks)
    expected = _expected_rows(first, source.size if source else None, chunk_rows)
    return _Work(first, expected, itertools.chain([first], chunks), source, chunk_rows=chunk_rows)


def _file_work(
    src: SourceFile,
    spec: KindSpec,
    mapper: Mapping,
    chunk_rows: int,
    workers: int | None,
    pool: Workers | None,
) -> _Work:
    """Pieces when the file is big (or workers were started for it), of a kind prepared
    without the database, and workers are allowed; else chunks read here."""
    lay = None
    if (pool is not None or _worker_processes(workers) > 0) and spec.kind in _PREBUILT:
        lay = layout(src, mapper.skip_rows)
    if lay is not None and (
        pool is not None or lay.estimated_records(src.size) >= PARALLEL_MIN_ROWS
    ):
        items = plan(lay, piece_sizes(lay, chunk_rows))
        expected = lay.estimated_records(src.size)
        return _Work(lay.sample, expected, items, src, lay, chunk_rows)
    chunks = read_chunks(src, chunk_rows, mapper.skip_rows, mapper.records)
    return _chunks_work(chunks, chunk_rows, src)


# ----------------------------------------------------------------- runs
_HOST = socket.gethostname()[:100]


def _owner() -> str:
    """This process as ``ingest_runs.owner``: "host:pid"."""
    return f"{_HOST}:{os.getpid()}"


def _process_gone(owner: str | None) -> bool:
    """Whether ``owner`` ("host:pid") names a process of this host that no longer runs.
    A run owned by another host (or by no one recorded) is never judged."""
    host, _, pid = (owner or "").rpartition(":")
    if host != _HOST or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. it runs under another user: alive
        return False
    return False


def mark_interrupted(conn: Connection, kind: str, file_name: str) -> int:
    """Mark the 'running' runs of ``kind`` and ``file_name`` whose process on this host
    is gone (killed outright: no chance to record 'failed') as 'interrupted'; returns
    how many. Their committed chunks stay; the rerun inserts only what is missing."""
    c = ingest_runs.c
    stale = [
        r.id
        for r in conn.execute(
            select(c.id, c.owner).where(
                c.status == "running", c.kind == kind, c.file_name == file_name
            )
        )
        if _process_gone(r.owner)
    ]
    if stale:
        conn.execute(
            update(ingest_runs)
            .where(c.id.in_(stale), c.status == "running")
            .values(status="interrupted", finished_at=_now())
        )
    return len(stale)


def _start_run(
    engine: Engine, kind: str, source: str, file_name: str, file_hash: str, mapping: Mapping
) -> int:
    with engine.begin() as conn:
        mark_interrupted(conn, kind, file_name[-512:])
        result = conn.execute(
            ingest_runs.insert().values(
                kind=kind,
                source=source,
                file_name=file_name[-512:],
                file_hash=file_hash,
                mapping=mapping.name[-128:],
                status="running",
                owner=_owner(),
                started_at=_now(),
                read=0,
                inserted=0,
                duplicates=0,
                rejected=0,
                unresolved=0,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def _run_counts(
    conn: Connection, run_id: int, total: IngestSummary, started: float, status: str
) -> None:
    values: dict[str, Any] = {
        "read": total.read,
        "inserted": total.inserted,
        "duplicates": total.duplicates,
        "rejected": total.rejected,
        "unresolved": total.unresolved,
        "seconds": time.perf_counter() - started,
        "status": status,
    }
    if status != "running":
        values["finished_at"] = _now()
    conn.execute(update(ingest_runs).where(ingest_runs.c.id == run_id).values(**values))


def _sample_chars(chunk: RawChunk) -> int:
    """About how many characters the chunk's records took in their file."""
    if chunk.header is not None:
        return sum(map(len, map("".join, chunk.rows))) + len(chunk.rows) * len(chunk.header)
    sample = chunk.rows[:1000]
    chars = sum(len(json.dumps(r, default=str)) for r in sample)
    return chars * len(chunk.rows) // max(1, len(sample))


def _expected_rows(first: RawChunk, file_bytes: int | None, chunk_rows: int) -> int:
    """About how many records the file holds: the first chunk's size when it is all of
    the file, else an estimate from its characters per record."""
    if file_bytes is None or first.size < chunk_rows:
        return first.size
    return max(first.size, estimate_rows(file_bytes, first.size, _sample_chars(first)))


def _deferred_indexes(engine: Engine, ctx: _Context, expected: int) -> list[Index]:
    """Drop the target table's plain indexes when this file is a bulk load (see
    ``ingest.bulk``); returns what to build after it."""
    if ctx.spec.kind not in _PREBUILT:
        return []
    table = _PREBUILT[ctx.spec.kind][0]
    if not should_defer(engine, table, expected):
        return []
    return drop_plain_indexes(engine, table)


def _ingest_stream(
    engine: Engine,
    ctx: _Context,
    work: _Work,
    file_label: str,
    on_progress: ProgressFn | None,
    workers: int | None = 0,
    pool: Workers | None = None,
) -> IngestSummary:
    total = IngestSummary(
        ctx.spec.kind, files=[file_label], run_ids=[ctx.run_id] if ctx.run_id else []
    )
    started = time.perf_counter()

    def write(done: _Prepared | bytes) -> IngestSummary:
        # a worker's chunk is unpacked here, in the writer thread: unpacking in the main
        # thread held the GIL that the driver takes back after every row it steps
        prep = _prepared_from(done) if isinstance(done, bytes) else done
        with engine.begin() as conn:
            part = _write_chunk(conn, ctx, prep)
            running = IngestSummary(ctx.spec.kind)
            running.add(total)
            running.add(part)
            if ctx.run_id is not None:
                _run_counts(conn, ctx.run_id, running, started, "running")
        return part

    # One writer thread: while chunk k commits (the driver releases the GIL), chunk k+1
    # is read and prepared, in this process or (big files) in worker processes, up to
    # ``_AHEAD`` chunks ahead. At most one transaction is in flight, in file order.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="undertow-ingest")
    pending: Future[IngestSummary] | None = None
    deferred: list[Index] = []
    procs: Workers | None = None
    ahead: deque[tuple[RawChunk | Piece, Future[Any]]] = deque()
    failed = False

    def submit(item: RawChunk | Piece) -> None:
        if isinstance(item, Piece):
            assert procs is not None
            job = procs.submit(_prepare_piece_in_worker, (item.offset, item.size, item.line))
        elif procs is not None:
            job = procs.submit(_prepare_in_worker, _chunk_blob(item))
        else:
            job = Future()
            job.set_result(_prepare_chunk(ctx, item))
        ahead.append((item, job))

    def write_next() -> Piece | None:
        """Hand the oldest prepared item to the writer; a piece that did not end
        between records is returned instead."""
        nonlocal pending
        item, job = ahead.popleft()
        done = job.result()
        if done is None:
            assert isinstance(item, Piece)
            return item
        settle()
        pending = writer.submit(write, done)
        return None

    def settle() -> None:
        nonlocal pending
        if pending is not None:
            part, pending = pending.result(), None
            total.add(part)
            if on_progress is not None:
                on_progress(part.read)

    try:
        check_columns(work.first, ctx.mapping, ctx.spec, file_label)
        deferred = _deferred_indexes(engine, ctx, work.expected)
        procs = _start_workers(engine, ctx, work, workers, pool)
        items: Iterator[RawChunk | Piece | Resume] = work.items
        if procs is None and work.layout is not None:
            items = work.read_on(work.layout.start)
        limit = _AHEAD if procs is not None else 0
        while True:
            item = next(items, None) if len(ahead) <= limit else None
            if isinstance(item, Resume):  # no record boundary found: read on here
                items = work.read_on(item)
                continue
            if item is not None:
                submit(item)
                continue
            if not ahead:
                break
            unclean = write_next()
            if unclean is not None:  # its start is a record boundary: read on from it
                ahead.clear()  # pieces after it were cut at guessed boundaries
                items = work.read_on(unclean)
        settle()
        if deferred:
            rebuild_after_load(engine, deferred)
            deferred = []
        if ctx.spec.kind == "accounts":
            with engine.begin() as conn:
                total.reresolved = reresolve(conn)
    except BaseException as exc:
        failed = True
        if pending is not None:  # let the transaction in flight finish (or fail) first
            try:
                total.add(pending.result())
            except BaseException:  # noqa: BLE001 - the original error matters more
                pass
        # Ctrl-C, or SIGTERM (the CLI turns it into KeyboardInterrupt): a rerun completes it
        stopped = isinstance(exc, KeyboardInterrupt | SystemExit)
        if ctx.run_id is not None:
            try:
                with engine.begin() as conn:
                    status = "interrupted" if stopped else "failed"
                    _run_counts(conn, ctx.run_id, total, started, status)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
        raise
    finally:
        if procs is not None and procs is not pool:  # a shared pool is closed by its owner
            procs.close(abort=failed)
        writer.shutdown(wait=True)
        if deferred:  # a failed or interrupted bulk load leaves its indexes built too
            rebuild_after_load(engine, deferred)
    total.seconds = time.perf_counter() - started
    if ctx.run_id is not None:
        with engine.begin() as conn:
            _run_counts(conn, ctx.run_id, total, started, "done")
    return total


def _account_index(engine: Engine, spec: KindSpec) -> AccountIndex:
    if spec.kind == "accounts":
        return AccountIndex()
    with engine.connect() as conn:
        return AccountIndex.load(conn)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the run (as it was after).

    A chunk holds a million small containers (rows, cells, parameter lists); every
    full collection walks all of them, about 4 us a row in all, while none of them
    is in a reference cycle: reference counting frees each chunk when it is written.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def ingest_paths(
    engine: Engine,
    kind: str,
    paths: Iterable[Path | str],
    *,
    settings: Settings,
    mapping: str | Mapping | None = None,
    source: str | None = None,
    on_progress: ProgressFn | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
) -> IngestSummary:
    """Ingest files of one kind; every path is checked before the first is read.

    ``workers``: processes that prepare the chunks of a big file (``PARALLEL_MIN_ROWS``
    records, or ``PARALLEL_MIN_BYTES``) beside this one; None = ``settings.ingest_workers``
    (default one per core), 0 = none.
    """
    if workers is None:
        workers = settings.ingest_workers
    spec = spec_for(kind)
    if mapping is None:
        mapper = identity_mapping(spec)
    else:
        mapper = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        check_mapping(mapper, spec)
        # canonical columns the mapping does not name come from same-named columns
        merged = {**identity_mapping(spec).columns, **mapper.columns}
        mapper = Mapping(**{**mapper.__dict__, "columns": merged})
    checked = [check_path(p) for p in paths]  # no byte read before every path is a file
    if not checked:
        raise InputError("give at least one file to ingest")
    if settings.quarantine_retention_days is not None:
        purge_quarantine(engine, settings.quarantine_retention_days)
    early = _early_workers(spec.kind, checked, workers)
    failed = False
    summary = IngestSummary(spec.kind)
    started = time.perf_counter()
    files: list[SourceFile] = []
    try:
        for p in checked:
            files.append(open_source(p, settings.max_quoted_lines))
        with _collector_paused():
            for src in files:
                part = _ingest_file(
                    engine,
                    spec,
                    mapper,
                    src,
                    source=source,
                    settings=settings,
                    on_progress=on_progress,
                    chunk_rows=chunk_rows,
                    workers=workers,
                    pool=early,
                )
                summary.add(part)
    except BaseException:
        failed = True
        raise
    finally:
        if early is not None:
            early.close(abort=failed)
        for src in files:
            src.discard()
    summary.seconds = time.perf_counter() - started
    return summary


def _ingest_file(
    engine: Engine,
    spec: KindSpec,
    mapper: Mapping,
    src: SourceFile,
    *,
    source: str | None,
    settings: Settings,
    on_progress: ProgressFn | None,
    chunk_rows: int,
    workers: int | None,
    pool: Workers | None,
) -> IngestSummary:
    label = str(src.named.resolve())
    name = _default_source(source, mapper, src.format)
    run_id = _start_run(engine, spec.kind, name, label, src.file_hash, mapper)
    ctx = _Context(
        spec,
        mapper,
        name,
        label[-512:],
        run_id,
        settings.max_text_chars,
        _account_index(engine, spec),
        engine.dialect,
        _not_after(settings),
    )
    work = _file_work(src, spec, mapper, chunk_rows, workers, pool)
    return _ingest_stream(engine, ctx, work, label, on_progress, workers=workers, pool=pool)


def ingest_records(
    engine: Engine,
    kind: str,
    records: list[dict[str, Any]],
    *,
    settings: Settings,
    source: str = "api",
) -> IngestSummary:
    """Ingest canonical records (e.g. a JSON array posted to the HTTP API)."""
    spec = spec_for(kind)
    if not isinstance(records, list):
        raise InputError("records must be a list of objects")
    mapper = identity_mapping(spec)
    name = _default_source(source, mapper, "api")
    payload = json.dumps(records, sort_keys=True, default=str)
    label = f"<{name}:{kind}>"
    whole = hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()  # as of a file
    run_id = _start_run(engine, spec.kind, name, label, whole, mapper)
    rows: list[Any] = []
    lines: list[int] = []
    bad: list[BadRow] = []
    for i, rec in enumerate(records, start=1):
        if isinstance(rec, dict):
            rows.append(rec)
            lines.append(i)
        else:
            bad.append(BadRow(i, json.dumps(rec, default=str), "a record must be a JSON object"))
    chunks = [
        RawChunk(None, rows[s : s + DEFAULT_CHUNK_ROWS], lines[s : s + DEFAULT_CHUNK_ROWS])
        for s in range(0, max(len(rows), 1), DEFAULT_CHUNK_ROWS)
    ]
    chunks[0].bad = bad
    ctx = _Context(
        spec,
        mapper,
        name,
        label,
        run_id,
        settings.max_text_chars,
        _account_index(engine, spec),
        engine.dialect,
        _not_after(settings),
    )
    summary = _ingest_stream(engine, ctx, _chunks_work(iter(chunks), DEFAULT_CHUNK_ROWS),
                             label, None)  # fmt: skip
    return summary
