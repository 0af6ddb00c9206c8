"""The role views show the funnel: sales by segment, marketing by channel with a chart,
and a CSV download; the same figures as GET /v1/funnel."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.keys import create_key
from api.ui.formatting import money, pct
from ingest.db.engine import open_store
from ingest.settings import Settings
from marketing.funnel import funnel


def _sign_in(client: TestClient, key: str) -> None:
    page = client.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    res = client.post("/ui/login", data={"key": key, "csrf_token": token.group(1), "next": ""},
                      follow_redirects=False)  # fmt: skip
    assert res.status_code == 303


def _section(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</section>", start)]


@pytest.fixture
def browser(revenue_world: Engine, settings: Settings) -> Iterator[tuple[TestClient, Engine]]:
    keys = {r: create_key(revenue_world, r)["key"] for r in ("sales", "marketing", "finance")}
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        client.keys = keys  # type: ignore[attr-defined]
        yield client, revenue_world


def test_sales_view_shows_conversion_and_velocity_by_segment(
    browser: tuple[TestClient, Engine],
) -> None:
    client, engine = browser
    _sign_in(client, client.keys["sales"])  # type: ignore[attr-defined]
    page = client.get("/ui/sales")
    assert page.status_code == 200
    section = _section(page.text, "funnel-segment")
    expected = funnel(engine, by="segment")
    assert expected["definitions_version"] in section
    smb = next(g for g in expected["groups"] if g["group"] == "smb")
    row = section[section.index("<td>smb</td>") :].split("</tr>")[0]
    assert f'<td class="num">{smb["leads"]}</td>' in row and pct(smb["win_rate"]) in row
    assert money(expected["total"]["pipeline_velocity"]) in section
    assert 'href="/ui/funnel.csv?by=segment"' in section
    csv_res = client.get("/ui/funnel.csv?by=segment")
    assert csv_res.status_code == 200 and csv_res.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_res.text)))
    assert rows[-1]["group"] == "total" and int(rows[-1]["leads"]) == expected["total"]["leads"]
    assert client.get("/ui/funnel.csv?by=campaign").status_code == 422


def test_marketing_view_shows_the_funnel_by_channel_with_a_chart(
    browser: tuple[TestClient, Engine],
) -> None:
    client, engine = browser
    _sign_in(client, client.keys["marketing"])  # type: ignore[attr-defined]
    page = client.get("/ui/marketing?from=2025-01-01&to=2025-03-31").text
    section = _section(page, "funnel-channel")
    assert "paid ads" in section and "2025-01-01" in section and "2025-03-31" in section
    assert 'id="chart-funnel"' in page and "nonce-" not in section
    assert "/ui/funnel.csv?by=channel&amp;from=2025-01-01&amp;to=2025-03-31" in section
    quiet = client.get("/ui/marketing?from=2030-01-01&to=2030-02-01").text
    assert 'data-testid="funnel-channel-empty"' in quiet and 'id="chart-funnel"' not in quiet
    # sales may not open the marketing view, but may download the funnel
    client.cookies.clear()
    _sign_in(client, client.keys["sales"])  # type: ignore[attr-defined]
    assert client.get("/ui/marketing").status_code == 403
    assert client.get("/ui/funnel.csv").status_code == 200


def test_views_of_a_store_without_funnel_data(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", data_dir=tmp_path / "d")
    engine = open_store(settings)
    key = create_key(engine, "admin")["key"]
    engine.dispose()
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        _sign_in(client, key)
        for path, testid in (("/ui/sales", "funnel-segment"), ("/ui/marketing", "funnel-channel")):
            page = client.get(path)
            assert page.status_code == 200 and f'data-testid="{testid}-empty"' in page.text
