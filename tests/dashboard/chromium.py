"""Real headless Chromium driven over the DevTools protocol (CDP), for the dashboard tests.

Debian's ``chromium`` (``make test`` installs it; a missing binary fails the test) runs with its
own profile in a temp dir and a DevTools port on loopback; :class:`Page` talks CDP over one
WebSocket (``websockets``' sync client) and records console errors, uncaught exceptions and
failed loads, so a test can assert that the page logged none. A test can also hold the page's
requests to the real API (CDP ``Fetch``) and let each go when it chooses: the order in which
answers reach the page is then the test's, without a sleep.

Every navigation a test makes (a URL opened, a link clicked, a reload, back/forward) waits for the
new document through :meth:`Page.open_ready` or :meth:`Page.leave`: the document left is marked
first, so it is never taken for the new one (nor is a page brought back from the back/forward
cache), and a question asked while the tab is between documents (CDP's "Inspected target
navigated or closed", :class:`TargetNavigated`) counts as "not yet".
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.support.ports import free_port
from tests.support.waiting import wait_for

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--remote-allow-origins=*",
    # no renderer started ahead of a navigation: it would outlive the test that navigated (leak check)
    "--disable-features=SpareRendererForSitePerProcess",
]
# the mark our pages set once drawn (dashboard_api/web/static: ``document.body.dataset.ready``)
READY = "document.body?.dataset.ready === 'true'"


class TargetNavigated(AssertionError):
    """CDP's answer to a command the tab could not run because it navigated meanwhile."""


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("chromium is not installed: run `make test` (it installs Debian's chromium)")


class Chromium:
    """``with Chromium(tmp_path) as browser: page = browser.new_page()``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.pages: list[Page] = []

    def __enter__(self) -> Chromium:
        profile = self.workdir / "chromium-profile"
        profile.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "chromium.log").open("ab")
        argv = [chromium_binary(), *FLAGS, f"--remote-debugging-port={self.port}", f"--user-data-dir={profile}"]
        self.proc = subprocess.Popen([*argv, "about:blank"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(self._version, timeout=30, what="chromium's DevTools endpoint", retry_on=(OSError,))
        return self

    def _version(self) -> dict[str, Any]:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"chromium exited with {self.proc.returncode}")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/version", timeout=2) as r:
            return dict(json.loads(r.read()))

    def new_page(self, width: int = 1366, height: int = 900) -> Page:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 (loopback)
            target = json.loads(r.read())
        page = Page(connect(target["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024, open_timeout=10))
        page.set_viewport(width, height)
        self.pages.append(page)
        return page

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        for page in self.pages:
            page.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Page:
    """One tab: navigate, evaluate JavaScript, click, screenshot; console problems are kept."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.problems: list[str] = []
        self.console: list[str] = []
        self.held: list[dict[str, Any]] = []  # Fetch.requestPaused: requests held until released
        self.cancelled: set[str] = set()  # Network ids of the requests the page gave up (aborted)
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 90.0) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params or {}}))
        while True:
            msg = json.loads(self.ws.recv(timeout=timeout))
            if msg.get("id") == my_id:
                if "error" in msg:
                    kind = TargetNavigated if "navigated or closed" in str(msg["error"]) else AssertionError
                    raise kind(f"CDP {method}: {msg['error']}")
                return dict(msg.get("result", {}))
            self._event(msg)

    def _event(self, msg: dict[str, Any]) -> None:
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = params["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            self.problems.append(f"uncaught exception: {text}")
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append(f"{params['type']}: {text}")
            if params["type"] in ("error", "assert"):
                self.problems.append(f"console.{params['type']}: {text}")
        elif method == "Fetch.requestPaused":
            self.held.append(params)
        elif method == "Network.loadingFailed" and params.get("canceled"):
            self.cancelled.add(params["requestId"])
        elif method == "Log.entryAdded":
            e = params["entry"]
            if e["level"] == "error":
                self.problems.append(f"{e['source']}: {e['text']} {e.get('url', '')}")

    def drain(self) -> None:
        """Read the events that arrived since the last command."""
        self.evaluate("1")

    def set_viewport(self, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def goto(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def open_ready(self, url: str, timeout: float = 60.0, ready: str = READY) -> Page:
        """Forget the console problems seen so far, load ``url`` (as typed in the address bar) and
        wait until the new document is ``ready`` (a JavaScript condition; by default our pages'
        ready mark). ``url`` must load another document: a change of the fragment alone does not
        (it would time out)."""
        self.problems.clear()
        return self._to_new_document(lambda: self.goto(url), f"{url} ready", timeout, ready)

    def leave(self, action: str, what: str, timeout: float = 60.0, ready: str = READY) -> Page:
        """Run the JavaScript ``action`` that leaves this document (a link clicked, ``location.reload()``,
        ``history.back()``) and wait until another document is ``ready``."""
        return self._to_new_document(lambda: self.evaluate(action), what, timeout, ready)

    def _to_new_document(self, go: Callable[[], object], what: str, timeout: float, ready: str) -> Page:
        token = f"left-{time.monotonic_ns()}"
        self.evaluate(f"window.leftAs = {token!r}")  # gone with this document
        go()
        wait_for(
            lambda: self.evaluate(
                f"window.leftAs !== {token!r} && document.readyState === 'complete' && Boolean({ready})"
            ),
            timeout=timeout,
            interval=0.1,
            what=what,
            retry_on=(TargetNavigated,),
        )
        return self

    def evaluate(self, expression: str) -> Any:
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise AssertionError(f"evaluate {expression!r}: {res['exceptionDetails'].get('text')}")
        return res["result"].get("value")

    def text(self, selector: str) -> str:
        return str(self.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''"))

    def wait_text(self, selector: str, predicate: Any, timeout: float = 20.0, what: str = "") -> str:
        return str(
            wait_for(
                lambda: (lambda s: s if predicate(s) else "")(self.text(selector)),
                timeout=timeout,
                interval=0.1,
                what=what or f"text of {selector}",
            )
        )

    def click(self, selector: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def screenshot(self, path: Path, selector: str | None = None) -> Path:
        """The whole page as PNG, or the box of the element ``selector``."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if selector is not None:
            # measured as the capture lays the page out: from its top, without a scrollbar (a capture
            # beyond the viewport has none: the page would widen and the element move under the clip)
            self.evaluate("document.documentElement.style.scrollbarWidth = 'none'")
            box = self.evaluate(
                f"scrollTo(0, 0), (r => ({{x: r.left, y: r.top, width: r.width, height: r.height}}))"
                f"(document.querySelector({json.dumps(selector)}).getBoundingClientRect())"
            )
            params["clip"] = {**box, "scale": 1}
        try:
            data = self.send("Page.captureScreenshot", params)["data"]
        finally:
            if selector is not None:
                self.evaluate("document.documentElement.style.scrollbarWidth = ''")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def hold_requests(self, url_pattern: str) -> None:
        """Hold the page's requests whose URL matches ``url_pattern`` (``*`` wildcards) once the real
        server has answered, before the page reads the answer: :attr:`held` lists them (after
        :meth:`drain`), :meth:`release` lets one go, :meth:`fail` fails one as a lost connection."""
        self.held.clear()
        self.cancelled.clear()
        self.send("Network.enable")
        self.send("Fetch.enable", {"patterns": [{"urlPattern": url_pattern, "requestStage": "Response"}]})

    def release(self, held: dict[str, Any]) -> bool:
        """Give a held answer to the page; False when the page had given up the request (aborted)."""
        self.held.remove(held)
        return self._held_command("Fetch.continueRequest", {"requestId": held["requestId"]})

    def fail(self, held: dict[str, Any]) -> bool:
        """Fail a held request as a refused connection; False when the page had given it up."""
        self.held.remove(held)
        return self._held_command(
            "Fetch.failRequest", {"requestId": held["requestId"], "errorReason": "ConnectionRefused"}
        )

    def _held_command(self, method: str, params: dict[str, Any]) -> bool:
        try:
            self.send(method, params)
        except AssertionError as exc:  # CDP's answer for a request the page cancelled meanwhile
            if "Invalid InterceptionId" not in str(exc):
                raise
            return False
        return True

    def stop_holding(self) -> None:
        """Hold nothing more and let every held request go."""
        for held in list(self.held):
            self.release(held)
        self.send("Fetch.disable")
        self.send("Network.disable")

    def close(self) -> None:
        self.ws.close()
