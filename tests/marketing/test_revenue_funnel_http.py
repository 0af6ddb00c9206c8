"""GET /v1/funnel at the HTTP boundary: roles, bad parameters, the same figures as the
library, and the CSV and Parquet downloads (formulas neutralised)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.keys import create_key
from ingest.pipeline import ingest_records
from ingest.settings import Settings
from marketing.definitions import load_definitions
from marketing.funnel import ROW_COLUMNS, funnel

Q1 = {"from": "2025-01-01", "to": "2025-03-31"}


@pytest.fixture
def client(
    revenue_world: Engine, settings: Settings
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    keys = {role: create_key(revenue_world, role)["key"] for role in
            ("sales", "marketing", "finance", "admin")}  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c, keys


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_every_funnel_role_reads_the_library_figures(
    client: tuple[TestClient, dict[str, str]], revenue_world: Engine
) -> None:
    c, keys = client
    expected = funnel(revenue_world, date(2025, 1, 1), date(2025, 3, 31), "segment")
    for role, key in keys.items():
        res = c.get("/v1/funnel", params={**Q1, "by": "segment"}, headers=_auth(key))
        assert res.status_code == 200, (role, res.text)
        body = res.json()
        assert (body["from"], body["to"], body["by"]) == ("2025-01-01", "2025-03-31", "segment")
        assert body["definitions_version"] == load_definitions().version
        assert [g["group"] for g in body["groups"]] == [g["group"] for g in expected["groups"]]
        assert body["total"]["pipeline_velocity"] == expected["total"]["pipeline_velocity"]
        assert body["groups"][0]["leads"] == expected["groups"][0]["leads"]
    default = c.get("/v1/funnel", headers=_auth(keys["sales"])).json()
    assert default["by"] == "channel" and default["from"] == "2024-11-01"


def test_no_key_401_and_bad_parameters_422(client: tuple[TestClient, dict[str, str]]) -> None:
    c, keys = client
    assert c.get("/v1/funnel").status_code == 401
    assert c.get("/v1/funnel", headers=_auth("ut_nope_nope")).status_code == 401
    for params in (
        {"by": "campaign"},
        {"from": "2025-02-30"},
        {"from": "2025-03-01", "to": "2025-01-01"},
        {"format": "xlsx"},
    ):
        res = c.get("/v1/funnel", params=params, headers=_auth(keys["marketing"]))
        assert res.status_code == 422, (params, res.text)
        assert res.json()["error"] == "invalid_input"
    empty = c.get("/v1/funnel", params={"from": "2030-01-01"}, headers=_auth(keys["finance"]))
    assert empty.status_code == 200 and empty.json()["groups"] == []
    assert empty.json()["total"]["win_rate"] is None


def test_csv_and_parquet_downloads(
    client: tuple[TestClient, dict[str, str]], revenue_world: Engine, settings: Settings
) -> None:
    c, keys = client
    lead = {"lead_id": "L-x", "created_at": "2025-02-02", "segment": '=HYPERLINK("http://x")'}
    ingest_records(revenue_world, "leads", [lead], settings=settings)
    res = c.get("/v1/funnel", params={**Q1, "by": "segment", "format": "csv"},
                headers=_auth(keys["sales"]))  # fmt: skip
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert "attachment" in res.headers["content-disposition"]
    assert res.headers["x-definitions-version"] == load_definitions().version
    rows = list(csv.DictReader(io.StringIO(res.text)))
    assert list(rows[0]) == ROW_COLUMNS
    groups = [r["group"] for r in rows]
    assert groups[-1] == "total" and '\'=HYPERLINK("http://x")' in groups
    assert sum(int(r["leads"]) for r in rows[:-1]) == int(rows[-1]["leads"]) == 6
    assert {r["definitions_version"] for r in rows} == {load_definitions().version}
    pq_res = c.get("/v1/funnel", params={**Q1, "format": "parquet"}, headers=_auth(keys["admin"]))
    assert pq_res.status_code == 200
    table = pq.read_table(io.BytesIO(pq_res.content)).to_pylist()
    assert table[-1]["group"] == "total" and table[-1]["opportunities"] == 5
    assert table[-1]["from"] == date(2025, 1, 1)


def test_provenance_reaches_the_records_and_the_definitions(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, keys = client
    url = "/v1/provenance/funnel/event"
    res = c.get(url, params={**Q1, "by": "channel", "limit": 3}, headers=_auth(keys["sales"]))
    assert res.status_code == 200, res.text
    body = res.json()
    inputs = body["inputs"]
    assert inputs["definitions_version"] == load_definitions().version
    assert inputs["definitions"]["change_log"][-1]["version"] == load_definitions().version
    assert (
        body["method"].startswith("revenue funnel") and load_definitions().version in body["method"]
    )
    assert (inputs["figures"]["leads"], inputs["figures"]["opportunities"]) == (1, 3)
    assert inputs["records_total"] == 4 and len(inputs["records"]) == 3
    lead = inputs["records"][0]
    assert (lead["table"], lead["id"], lead["counted_as"]) == ("leads", "L4", ["leads", "sqls"])
    assert lead["source_file"] == "<crm:leads>" and lead["source_line"] == 4
    rest = c.get(url, params={**Q1, "cursor": body["next_cursor"]}, headers=_auth(keys["sales"]))
    assert [r["id"] for r in rest.json()["inputs"]["records"]] == ["O7"]
    assert rest.json()["next_cursor"] is None
    total = c.get("/v1/provenance/funnel/total", params=Q1, headers=_auth(keys["finance"]))
    # leads L1-L4, L6 (created), L5 (its MQL and SQL); opportunities O1 O2 O4 O5 O7, O6 (won)
    assert total.json()["inputs"]["records_total"] == 6 + 6
    missing = c.get("/v1/provenance/funnel/podcast", params=Q1, headers=_auth(keys["marketing"]))
    assert missing.status_code == 404 and "groups:" in missing.json()["detail"]
    defs = c.get("/v1/provenance/definitions/current", headers=_auth(keys["marketing"]))
    assert defs.status_code == 200 and defs.json()["id"] == load_definitions().version
    assert defs.json()["inputs"]["definitions"]["windows"]["conversion_window_days"] == 180
    old = c.get("/v1/provenance/definitions/0.1", headers=_auth(keys["marketing"]))
    assert old.status_code == 404
    assert c.get("/v1/provenance/definitions/current").status_code == 401
