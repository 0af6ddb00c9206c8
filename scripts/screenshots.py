"""The README's screenshots, taken from a real demo world.

Runs ``undertow quickstart --no-serve`` (demo world -> ingest -> score -> tag -> classify
-> fit -> one key per role) into a temporary folder and database, serves that store on
loopback with uvicorn, and captures each role view with Playwright driving Debian's
Chromium: the login page (after a wrong key), sales, finance, marketing, the account page
of the top account on the risk list, and a view refused to a role.

    .venv/bin/python scripts/screenshots.py                # -> docs/screenshots/
    .venv/bin/python scripts/screenshots.py --accounts 150 --out /tmp/shots

Needs ``/usr/bin/chromium`` (``apt-get install chromium``; override with
``UNDERTOW_CHROMIUM``) and the ``playwright`` package (a dev dependency). Nothing leaves the
machine: the server listens on 127.0.0.1 and the browser loads only from it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))  # the browser helpers of the UI tests
from browser_support import CHROMIUM, RolePage, free_port, launch  # noqa: E402


def build_store(workdir: Path, accounts: int, months: int) -> dict[str, Any]:
    """``undertow quickstart --no-serve --json`` on a fresh SQLite store in ``workdir``."""
    env = {
        **os.environ,
        "UNDERTOW_DATABASE_URL": f"sqlite:///{workdir / 'undertow.db'}",
        "UNDERTOW_DATA_DIR": str(workdir / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    undertow = Path(sys.executable).with_name("undertow")
    cmd = [str(undertow), "quickstart", "--no-serve", "--json", "--dir", str(workdir / "demo"),
           "--accounts", str(accounts), "--months", str(months)]  # fmt: skip
    print("$", " ".join(cmd[1:]), file=sys.stderr)
    done = subprocess.run(cmd, env=env, cwd=workdir, stdout=subprocess.PIPE, check=True)
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    result["env"] = env
    return result


class Server:
    """The app on the quickstart store, served by uvicorn in a thread on loopback."""

    def __init__(self, database_url: str, data_dir: str) -> None:
        import uvicorn

        from api.app import create_app
        from api.settings import ApiSettings
        from ingest.settings import Settings

        settings = Settings(database_url=database_url, data_dir=Path(data_dir))
        app = create_app(settings, ApiSettings(rate_limit_per_second=0, access_log=False))
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class Browser:
    """One Chromium; a fresh context (``RolePage``) per role, console errors collected."""

    def __init__(self, playwright: Any, base: str, out: Path) -> None:
        self.browser = launch(playwright)
        self.base, self.out = base, out
        self.errors: list[str] = []
        self.role: RolePage | None = None

    @property
    def page(self) -> Any:
        assert self.role is not None
        return self.role.page

    def new_session(self) -> None:
        self._keep_errors()
        self.role = RolePage(self.browser, self.base)

    def _keep_errors(self) -> None:
        if self.role is not None:
            self.errors += self.role.errors
            self.role.close()
            self.role = None

    def goto(self, path: str) -> Any:
        assert self.role is not None
        response = self.role.goto(path)
        self.page.wait_for_load_state("networkidle")
        self.role.charts_drawn(timeout_ms=30_000)
        return response

    def sign_in(self, key: str) -> None:
        assert self.role is not None
        self.role.sign_in(key)
        self.page.wait_for_load_state("networkidle")

    def clear_errors(self) -> None:
        if self.role is not None:
            self.role.errors.clear()

    def shot(self, name: str) -> None:
        assert self.role is not None
        path = self.out / f"{name}.png"
        self.role.capture(path)
        print(f"  {path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)

    def close(self) -> None:
        self._keep_errors()
        self.browser.close()


def capture(base: str, keys: dict[str, str], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = Browser(p, base, out)
        try:
            b.new_session()
            b.sign_in("ut_0000000000000000_wrong")
            b.shot("login")
            b.clear_errors()  # the 401 of the wrong key is the point of this picture
            for role, path in (("sales", "/ui/sales?limit=6"), ("finance", "/ui/finance"),
                               ("marketing", "/ui/marketing")):  # fmt: skip
                b.new_session()
                b.sign_in(keys[role])
                if b.goto(path).status != 200:
                    raise RuntimeError(f"{path} answered {b.page.url} for {role}")
                b.shot(role)
                if role == "sales":
                    b.goto("/ui/finance")  # refused: not for the sales role
                    b.shot("refused")
                    b.clear_errors()  # so is the 403 here
                    b.goto("/ui/sales")
                    b.page.locator('[data-testid="list-risk"] tbody tr td a').first.click()
                    b.page.wait_for_load_state("networkidle")
                    b.goto(b.page.url.removeprefix(b.base))  # wait for its charts
                    b.shot("account")
        finally:
            b.close()
    if b.errors:
        raise RuntimeError(f"the pages logged errors: {b.errors[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--accounts", type=int, default=400, help="as quickstart's default")
    parser.add_argument("--months", type=int, default=24, help="as quickstart's default")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set UNDERTOW_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="undertow-shots-") as tmp:
        store = build_store(Path(tmp), args.accounts, args.months)
        fit = store.get("fit", {})
        print(f"store: {store['database_url']}, snapshot as of {fit.get('as_of')}", file=sys.stderr)
        with Server(
            store["env"]["UNDERTOW_DATABASE_URL"], store["env"]["UNDERTOW_DATA_DIR"]
        ) as base:
            capture(base, store["keys"], args.out)
    print(
        json.dumps(
            {
                "out": str(args.out),
                "accounts": args.accounts,
                "months": args.months,
                "as_of": fit.get("as_of"),
                "run_id": fit.get("run_id"),
            }
        )
    )


if __name__ == "__main__":
    main()
