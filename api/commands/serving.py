"""`undertow serve` (the HTTP API under uvicorn) and `undertow quickstart` (the demo, end
to end: demo world -> ingest -> score -> tag -> classify -> fit -> keys -> serve)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from api.cli_support import console, emit, handle_errors, json_option, progress, state

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"format": "%(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "undertow": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "undertow.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


def run_server(host: str, port: int, workers: int) -> None:
    """Serve ``api.app:create_app`` (a factory: each worker builds its own app and engine)."""
    import uvicorn

    if host not in ("127.0.0.1", "localhost", "::1"):
        console().print(f"[yellow]serving on {host}: reachable from other machines[/yellow]")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # the app writes its own JSON access log, without secrets
        log_config=LOG_CONFIG,
        proxy_headers=False,
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (rate limits are per worker).")  # fmt: skip
@handle_errors
def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP API (OpenAPI at /docs); the database is UNDERTOW_DATABASE_URL."""
    from sqlalchemy.engine import make_url

    from api.settings import ApiSettings
    from api.ui.session import ui_secret

    st = state()
    ApiSettings.from_env()  # a bad UNDERTOW_API_* value stops here (exit 2), not in a worker
    ui_secret()
    st.engine()  # migrate once here, not racing in every worker
    shown = make_url(st.settings.database_url).render_as_string(hide_password=True)
    console().print(f"Undertow API on http://{host}:{port} (docs: /docs), database {shown}")
    run_server(host, port, workers)


def _step(title: str) -> None:
    console().print(f"[bold cyan]>[/bold cyan] {title}")


def ingest_world(engine: Any, settings: Any, paths: dict[str, Path]) -> dict[str, Any]:
    """Ingest the files of a demo world: every kind it has a file of (``truth`` is no
    kind), in ``ingest.records.INGEST_ORDER`` (accounts first, leads before the
    opportunities they became); kind -> the ingest's counts."""
    from ingest.pipeline import ingest_paths
    from ingest.records import INGEST_ORDER

    ingested = {}
    for kind in INGEST_ORDER:
        if kind not in paths:
            continue
        with progress(f"ingest {kind}") as advance:
            summary = ingest_paths(
                engine, kind, [paths[kind]], settings=settings, on_progress=advance
            )
        d = summary.as_dict()
        ingested[kind] = {
            k: d[k] for k in ("read", "inserted", "duplicates", "rejected", "unresolved")
        }
        console().print(
            f"  {kind}: {d['read']} read, {d['inserted']} new, {d['rejected']} quarantined"
        )
    return ingested


def build_demo_store(data_dir: Path, accounts: int, months: int) -> dict[str, Any]:
    """Demo world -> every kind ingested (accounts first) -> scored, tagged, classified ->
    churn fit -> marketing measurement and the base pipeline forecast."""
    from api.commands.fitting import fit_summary
    from ingest.demo import build_world, write_world
    from nlp.aspects import tag_store
    from nlp.channels import classify_store
    from nlp.scoring import score_store
    from risk.fit import FIT_STEPS, fit_and_store

    st = state()
    engine, settings = st.engine(), st.settings
    out: dict[str, Any] = {"database_url": settings.database_url}
    _step(f"demo world: {accounts} accounts x {months} months -> {data_dir}")
    paths = write_world(build_world(accounts=accounts, months=months), data_dir)
    out["files"] = {k: str(v) for k, v in paths.items()}
    out["ingest"] = ingest_world(engine, settings, paths)
    _step("scoring texts (sentiment model)")
    with progress("score texts") as advance:
        out["score"] = score_store(engine, settings, on_progress=advance)
    console().print(
        f"  {out['score'].get('scored')} scored, {out['score'].get('cached')} cached, model {out['score'].get('model_version')}"
    )
    _step("tagging aspects and classifying attribution answers")
    with progress("aspects") as advance:
        out["aspects"] = tag_store(engine, settings, on_progress=advance)
    with progress("channels") as advance:
        out["channels"] = classify_store(engine, settings, on_progress=advance)
    _step("fitting churn risk")
    with progress("fit", total=FIT_STEPS) as advance:
        fit = fit_summary(fit_and_store(engine, settings, on_progress=advance))
    out["fit"] = {
        k: fit.get(k)
        for k in ("run_id", "as_of", "accounts", "model_version", "c_index", "integrated_brier")
    }
    c_index = fit.get("c_index")
    console().print(
        f"  snapshot as of {fit.get('as_of')}: {fit.get('accounts')} active accounts, "
        f"back-test C-index {c_index:.3f}"
        if isinstance(c_index, float)
        else f"  snapshot as of {fit.get('as_of')}: {fit.get('accounts')} active accounts",
        soft_wrap=True,
    )
    out["measure"] = measure_demo(engine)
    return out


def measure_demo(engine: Any) -> dict[str, Any]:
    """The media-mix model on the demo's marketing side, and the base forecast after it."""
    from marketing.forecast_ledger import run_forecast
    from marketing.measure import measure_and_store

    _step("measuring channels (media-mix model calibrated by lift tests and answers)")
    with console().status("sampling") as status:
        run = measure_and_store(engine, on_step=lambda msg: status.update(msg))
    fc = run_forecast(engine, weeks=13, name="quickstart base plan")
    d, total = run["diagnostics"], fc["total"]
    console().print(
        f"  {run['weeks']} weeks, {len(run['result']['channels'])} channels, "
        f"R-hat {d['r_hat_max']}, {d['divergences']} divergences ({run['status']}); next 13 "
        f"weeks' pipeline P50 {total['p50']:,.0f} (P10 {total['p10']:,.0f} - P90 {total['p90']:,.0f})",
        soft_wrap=True,
    )
    return {"run_id": run["run_id"], "status": run["status"], "weeks": run["weeks"],
            "forecast_id": fc["forecast_id"], "forecast_total": total}  # fmt: skip


@click.command("quickstart")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("undertow-demo"), show_default=True, help="Where the demo files go.")  # fmt: skip
@click.option("--accounts", default=400, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--months", default=24, show_default=True, type=click.IntRange(6, 120))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Stop after printing the keys.")
@json_option
@handle_errors
def quickstart(
    directory: Path, accounts: int, months: int, host: str, port: int, no_serve: bool, as_json: bool
) -> None:
    """Demo world -> ingest -> score -> fit -> one key per role -> serve, on the default database."""
    from api.keys import ROLES, create_key

    result = build_demo_store(directory, accounts, months)
    engine = state().engine()
    keys = {role: create_key(engine, role, name=f"quickstart {role}")["key"] for role in ROLES}
    result["keys"] = keys
    result["url"] = f"http://{host}:{port}"
    lines = [f"API: {result['url']}  (docs: {result['url']}/docs)", "keys (shown once):"]
    lines += [f"  {role:9s} {key}" for role, key in keys.items()]
    lines.append(
        f"try:  curl -H 'Authorization: Bearer {keys['sales']}' {result['url']}/v1/signals?list=risk"
    )
    emit(result, as_json)
    for line in lines:  # unwrapped, so keys and the curl line copy-paste whole
        console().print(line, soft_wrap=True, highlight=False)
    if no_serve:
        return
    sys.stderr.flush()
    run_server(host, port, 1)


COMMANDS: list[click.Command] = [serve, quickstart]
