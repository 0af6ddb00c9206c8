"""Browser helpers shared by the UI browser tests and ``scripts/screenshots.py``:
Debian's Chromium driven by Playwright against a server on loopback."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("UNDERTOW_CHROMIUM", "/usr/bin/chromium")
# set where Chromium is installed on purpose (CI): a browser that is missing or does not
# start then fails the browser tests instead of skipping them
REQUIRE_BROWSER = os.environ.get("UNDERTOW_REQUIRE_BROWSER") == "1"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 900}
MAX_SCREENSHOT_BYTES = 300_000  # per picture, so the README and artifacts stay light


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)


def why_no_browser(playwright: Any) -> tuple[Any, str | None]:
    """(a launched browser, None), or (None, why there is none): no file at ``CHROMIUM``,
    or one that does not start (a stub such as Ubuntu's snap placeholder, a wrapper
    whose binary is missing, libraries that are not installed)."""
    if not Path(CHROMIUM).exists():
        return None, f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        return launch(playwright), None
    except Exception as exc:  # playwright's Error, whatever the launch ran into
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        return None, f"Chromium at {CHROMIUM} does not start ({first.strip()[:200]})"


def shrink_png(path: Path, max_bytes: int = MAX_SCREENSHOT_BYTES) -> None:
    """Keep a screenshot under ``max_bytes`` (palette PNG, then a shorter crop)."""
    if path.stat().st_size <= max_bytes:
        return
    from PIL import Image

    with Image.open(path) as img:
        quantized = img.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
        height = quantized.height
        while True:
            quantized.crop((0, 0, quantized.width, height)).save(path, optimize=True)
            if path.stat().st_size <= max_bytes or height < 600:
                return
            height = int(height * 0.8)


class RolePage:
    """One browser context (its own cookies) with the page's console errors collected."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def sign_in(self, key: str) -> None:
        self.goto("/ui/login")
        self.page.fill("#key", key)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def charts_drawn(self, timeout_ms: int = 20_000) -> int:
        """Wait until every chart of the page is drawn; returns how many there are."""
        n = self.page.locator("[data-figure]").count()
        if n:
            self.page.wait_for_function(
                "n => document.querySelectorAll('[data-drawn=\"1\"] .main-svg').length >= n",
                arg=n,
                timeout=timeout_ms,
            )
        return n

    def capture(self, path: Path) -> None:
        """A full-page screenshot at ``path``, kept under ``MAX_SCREENSHOT_BYTES``."""
        self.page.screenshot(path=str(path), full_page=True)
        shrink_png(path)

    def close(self) -> None:
        self.context.close()
