"""Column mappings: from a vendor export's columns to the canonical columns of a kind.

The contract's form is a flat YAML ``canonical_name: vendor_column``. The shipped vendor
mappings (``ingest/mappings/*.yaml``) use the extended form, which adds what real
exports need::

    vendor: zendesk            # documents.source when the row and --source name none
    kind: tickets              # the kind this mapping is written for
    records: tickets           # JSON documents: the key holding the record list
    skip_rows: 2               # CSV rows after the header that are not records (Qualtrics)
    columns:                   # canonical: vendor column, a dotted path into nested JSON,
      ticket_id: id            # or a list of columns joined by a blank line
      requester_email: via.source.from.address
      body: [description, comment]
    values:                    # canonical: {vendor value: canonical value}, case-insensitive
      csat: {good: 5, bad: 1}
    defaults:                  # canonical: value used where the vendor gives none
      survey_type: nps
    date_formats:              # canonical: strptime format of a non-ISO vendor date
      contract_start: "%m/%d/%Y"

A mapping is a name of a shipped file (``--mapping zendesk``) or a path to a YAML file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ingest.errors import MappingError, MissingColumnError
from ingest.readers import RawChunk
from ingest.records import KindSpec
from ingest.series import object_series

MAPPINGS_DIR = Path(__file__).with_name("mappings")
_RESERVED = {
    "vendor",
    "kind",
    "records",
    "skip_rows",
    "columns",
    "values",
    "defaults",
    "date_formats",
}


@dataclass(frozen=True)
class Mapping:
    """Where each canonical column comes from, and the value fixes a vendor needs."""

    name: str
    columns: dict[str, tuple[str, ...]]
    vendor: str | None = None
    kind: str | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    skip_rows: int = 0
    records: str | None = None


def identity_mapping(spec: KindSpec) -> Mapping:
    """Canonical files: every canonical column comes from the column of the same name."""
    return Mapping(name="canonical", columns={c: (c,) for c in spec.names})


def shipped_mappings() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_mapping(doc: Any, name: str) -> Mapping:
    """A Mapping from a parsed YAML document (flat or extended form)."""
    if not isinstance(doc, dict) or not doc:
        raise MappingError(f"mapping {name}: expected a YAML mapping of canonical: vendor column")
    if "columns" not in doc:
        extra = {k: v for k, v in doc.items() if k in _RESERVED}
        doc = {"columns": {k: v for k, v in doc.items() if k not in _RESERVED}, **extra}
    columns: dict[str, tuple[str, ...]] = {}
    raw_columns = doc.get("columns")
    if not isinstance(raw_columns, dict):
        raise MappingError(f"mapping {name}: 'columns' must map canonical names to vendor columns")
    for canon, vendor in raw_columns.items():
        if isinstance(vendor, str | int | float):
            columns[str(canon)] = (str(vendor),)
        elif isinstance(vendor, list) and vendor and all(isinstance(v, str) for v in vendor):
            columns[str(canon)] = tuple(vendor)
        else:
            raise MappingError(f"mapping {name}: column '{canon}' must name a vendor column")
    values = {
        str(c): {str(k).strip().lower(): _as_text(v) for k, v in (m or {}).items()}
        for c, m in (doc.get("values") or {}).items()
    }
    defaults = {str(c): _as_text(v) for c, v in (doc.get("defaults") or {}).items()}
    date_formats = {str(c): str(v) for c, v in (doc.get("date_formats") or {}).items()}
    try:
        skip_rows = int(doc.get("skip_rows") or 0)
    except (TypeError, ValueError):
        raise MappingError(f"mapping {name}: skip_rows must be a whole number") from None
    return Mapping(
        name=name,
        columns=columns,
        vendor=doc.get("vendor"),
        kind=doc.get("kind"),
        values=values,
        defaults=defaults,
        date_formats=date_formats,
        skip_rows=skip_rows,
        records=doc.get("records"),
    )


def load_mapping(name_or_path: str) -> Mapping:
    """A shipped mapping by name (``zendesk``) or a YAML file by path."""
    path = Path(name_or_path)
    if not (path.suffix.lower() in {".yaml", ".yml"} or path.is_file()):
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise MappingError(
                f"unknown mapping '{name_or_path}': give a YAML file or one of "
                f"{', '.join(shipped_mappings())}"
            )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"mapping {path}: cannot read it ({exc})".splitlines()[0]) from exc
    return parse_mapping(doc, path.stem if path.parent == MAPPINGS_DIR else str(path))


def check_mapping(mapping: Mapping, spec: KindSpec) -> None:
    """The mapping fits ``spec``: its kind and its canonical names."""
    if mapping.kind and mapping.kind != spec.kind:
        raise MappingError(
            f"mapping {mapping.name} is for kind '{mapping.kind}', not '{spec.kind}'"
        )
    unknown = sorted(
        (set(mapping.columns) | set(mapping.values) | set(mapping.defaults)) - set(spec.names)
    )
    if unknown:
        raise MappingError(
            f"mapping {mapping.name}: {', '.join(unknown)} not a column of kind "
            f"'{spec.kind}' (columns: {', '.join(spec.names)})"
        )


def _norm_header(name: str) -> str:
    return " ".join(name.strip().lower().split())


def _header_index(header: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name, i)
    for i, name in enumerate(header):
        index.setdefault(_norm_header(name), i)
    return index


def _present_in_keys(path: str, keys: set[str]) -> bool:
    return path in keys or path.split(".")[0] in keys or _norm_header(path) in keys


def _position(index: dict[str, int], source: str) -> int | None:
    """Where ``source`` is in the header: exact, then case/space-insensitive; a trailing
    ``*`` matches the first header starting with the rest (G2 and Typeform put the
    product name into their question columns)."""
    if source.endswith("*"):
        prefix = _norm_header(source[:-1])
        hits = [i for name, i in index.items() if name.startswith(prefix)]
        return min(hits) if hits else None
    return index.get(source, index.get(_norm_header(source)))


def check_columns(chunk: RawChunk, mapping: Mapping, spec: KindSpec, file: str) -> None:
    """Raise MissingColumnError for the first required column the file lacks."""
    if chunk.header is not None:
        index = _header_index(chunk.header)
        present = lambda col: _position(index, col) is not None  # noqa: E731
    else:
        if not chunk.rows:
            return  # nothing to judge by; rows are checked one by one
        keys: set[str] = set()
        for row in chunk.rows[:1000]:
            keys.update(row)
        keys |= {_norm_header(k) for k in keys}
        present = lambda col: _present_in_keys(col, keys)  # noqa: E731
    for canon in spec.required:
        if canon in mapping.defaults:
            continue
        sources = mapping.columns.get(canon, ())
        if not any(present(col) for col in sources):
            raise MissingColumnError(sources[0] if sources else canon, file, spec.kind)


def _json_get(obj: Any, path: str) -> Any:
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    for part in path.split("."):
        if isinstance(obj, dict):
            if part in obj:
                obj = obj[part]
            else:
                low = {_norm_header(k): v for k, v in obj.items()}
                if _norm_header(part) not in low:
                    return None
                obj = low[_norm_header(part)]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _column_values(
    chunk: RawChunk, source: str, index: dict[str, int] | None, cells: list[tuple[str, ...]]
) -> Sequence[str] | None:
    """The values of vendor column ``source`` (None: the file has no such column);
    ``cells``: a CSV chunk's columns (its rows transposed once, in C)."""
    if chunk.header is not None:
        assert index is not None
        pos = _position(index, source)
        if pos is None:
            return None
        return cells[pos] if chunk.rows else []
    return [_cell_text(_json_get(row, source)) for row in chunk.rows]


def to_frame(chunk: RawChunk, mapping: Mapping, spec: KindSpec) -> pd.DataFrame:
    """The chunk's records as a DataFrame of canonical columns (strings, '' = missing)."""
    n = len(chunk.rows)
    index = _header_index(chunk.header) if chunk.header is not None else None
    cells = list(zip(*chunk.rows, strict=True)) if chunk.header is not None else []
    data: dict[str, Any] = {}
    for canon in spec.names:
        sources = mapping.columns.get(canon, ())
        found = [
            v for v in (_column_values(chunk, s, index, cells) for s in sources) if v is not None
        ]
        if not found:
            col: Sequence[str] = [""] * n
        elif len(found) == 1:
            col = found[0]
        else:  # several vendor columns make one text (e.g. G2's "likes" and "dislikes")
            col = [
                "\n\n".join(p for p in parts if p and p.strip())
                for parts in zip(*found, strict=True)
            ]
        series = object_series(col)
        if canon in mapping.values:
            table = mapping.values[canon]
            series = series.map(lambda v, t=table: t.get(str(v).strip().lower(), v))
        if canon in mapping.defaults:
            series = series.where(series.str.strip().astype(bool), mapping.defaults[canon])
        data[canon] = series
    return pd.DataFrame(data, copy=False)
