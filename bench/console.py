"""Staff console benchmark: how long the console's dashboard takes to show its figures in a
browser, against a service holding a million cases.

How to run (from the repository root; the first run builds the database, 10+ minutes)::

    uv run --group dev python bench/console.py                        # its own server on banshi_load
    uv run --group dev python bench/console.py --repeats 20 --workers 1
    uv run --group dev python bench/console.py --url http://127.0.0.1:8000  # a server already running
    BENCH_PASSWORD=... uv run --group dev python bench/console.py --url http://127.0.0.1:8000 --username city.lead

It needs the built console (``console/dist``, served by the service at ``/staff/``),
Debian's Chromium (``/usr/bin/chromium``, driven by Playwright) and PostgreSQL at
127.0.0.1:5432 (user postgres). It talks only to loopback addresses.

The database. ``--database`` (default ``banshi_load``, the load benchmark's) is built by
``bench/load.py``'s own helper when it is missing: ``banshi db upgrade``, ``banshi demo-data
--workers <cases/10> --cases <cases>``, ``VACUUM (ANALYZE)``, its keys kept in
``.banshi/bench-load/<name>.keys``. A database that holds fewer than ``--cases`` cases is
built again the same way; one that holds cases but has no kept keys is refused (its
personal data is sealed with keys we do not have) unless ``--rebuild`` says to build it
again.

The server. Unless ``--url`` names one already running, the script starts ``banshi serve
--workers N`` on a free loopback port with the database's kept keys, the production
defaults otherwise, ``BANSHI_DELIVERY_WORKER=separate`` and ``BANSHI_REMINDER_SECONDS=0``
(no deliveries or reminder passes in the server's processes: only the page's load is
measured), and stops it at the end.

The account. A new city-wide official (``banshi users create --role official``, no
district) each run, with the database's kept keys; it signs in through the API
(``POST /api/v1/auth/login``), changes the password an administrator's tool set
(``POST /api/v1/auth/password``) and signs in again. With ``--url``, ``--username`` names an
existing account instead (its password in the environment variable ``--password-env``,
default ``BENCH_PASSWORD``); without ``--username`` the official is made the same way in
``--database``, which must then be the database the server at ``--url`` uses, with the
kept keys.

One load. A new browser context (nothing cached, an empty ``sessionStorage``; desktop
size, zh-CN, Asia/Shanghai) whose init script puts the session in
``sessionStorage["banshi.staff.session"]`` as the console expects it (``{token, username,
role, expiresIn, expiresAt}``) before any page script runs; then ``<url>/staff/#/dashboard``
and a wait of up to ``--timeout`` seconds for the performance mark ``banshi:dashboard-ready``
(the console marks it once the first view's figures are all rendered) and for the load
event. From the browser's Navigation Timing: ``responseStart``, ``domContentLoadedEventEnd``,
``loadEventEnd`` and the mark's ``startTime``, all in milliseconds from the navigation's
start; from Resource Timing, each ``/api/`` request the page made and how long it took
(whole request, and the wait from sending it to the first byte of the answer).

The run. One cold load (the server's first page load since it started, when the script
started it) and ``--repeats`` warm loads (default 10, a new context each: the browser
caches nothing, the server is warm). It prints the cold figures and the median and max of
the warm ones, the API requests of the cold load and, per request, the median and max of
the warm loads.

When the mark does not come, the script says so, prints the page's console errors,
failed requests and API answers of 400 and above, the page's address and the start of
its text, saves a screenshot (``--screenshot``, default ``/tmp/console-bench.png``) and
ends with status 1. Exit status: 0 when every load reached the mark; 1 when one did
not; 2 when the run could not be made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from harness import (
    API,
    REPO,
    CommandFailed,
    Server,
    bearer,
    clean_environ,
    cli_create_user,
    machine_line,
    require_loopback,
    start_server,
    strong_password,
    wait_healthy,
)
from load import keys_file, prepare_database, read_keys, scalar
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [  # as tests/browser/test_pages.py launches it
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONTEXT_OPTIONS: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
SESSION_KEY = "banshi.staff.session"
SCREENSHOT = Path("/tmp/console-bench.png")  # noqa: S108 - a fixed name the user is told, not a secret
READY_MARK = "banshi:dashboard-ready"
DASHBOARD = "/staff/#/dashboard"
QUIET_SERVER = {"BANSHI_DELIVERY_WORKER": "separate", "BANSHI_REMINDER_SECONDS": "0"}
DATA_MARK = "banshi:dashboard-data"  # the three tables have arrived (drawing comes after)
FIGURES = ("responseStart", "domContentLoaded", "loadEventEnd", "dashboard-data", "dashboard-ready")

MARK_SEEN = f"() => performance.getEntriesByName({json.dumps(READY_MARK)}, 'mark').length > 0"
LOADED = "() => { const n = performance.getEntriesByType('navigation')[0]; return !!n && n.loadEventEnd > 0; }"
COLLECT = """
(mark) => {
  const nav = performance.getEntriesByType("navigation")[0] || null;
  const ready = performance.getEntriesByName(mark, "mark")[0] || null;
  const api = [];
  const assets = {count: 0, transferred: 0, decoded: 0};
  for (const e of performance.getEntriesByType("resource")) {
    const u = new URL(e.name, location.href);
    if (u.origin === location.origin && u.pathname.startsWith("/api/")) {
      api.push({
        path: u.pathname + u.search,
        start: e.startTime,
        duration: e.duration,
        wait: e.requestStart > 0 && e.responseStart > 0 ? e.responseStart - e.requestStart : null,
        status: e.responseStatus || 0,
        size: e.transferSize,
      });
    } else {
      assets.count += 1;
      assets.transferred += e.transferSize || 0;
      assets.decoded += e.decodedBodySize || 0;
    }
  }
  return {
    responseStart: nav ? nav.responseStart : null,
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
    loadEventEnd: nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : null,
    ready: ready ? ready.startTime : null,
    data: (performance.getEntriesByName("banshi:dashboard-data", "mark")[0] || {startTime: null}).startTime,
    documentBytes: nav ? nav.transferSize : null,
    api,
    assets,
    href: location.href,
  };
}
"""


class RunFailed(CommandFailed):
    """The run cannot be made: no database, no server, no account, no browser."""


class NotReady(RuntimeError):
    """A load that did not reach the mark; the message says what the page showed."""


# --------------------------------------------------------------------------- the session


@dataclass(frozen=True)
class Session:
    token: str
    username: str
    role: str
    expires_in: int
    expires_at: str
    district: str | None

    def init_script(self) -> str:
        """Put the session where the console looks for it, before any page script runs."""
        value = json.dumps(
            {
                "token": self.token,
                "username": self.username,
                "role": self.role,
                "expiresIn": self.expires_in,
                "expiresAt": self.expires_at,
            }
        )
        return (
            "(() => { try { "
            f"sessionStorage.setItem({json.dumps(SESSION_KEY)}, {json.dumps(value)}); "
            "performance.setResourceTimingBufferSize(2000); "
            "} catch (e) { /* a frame without storage (about:blank) */ } })();"
        )


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    r = await client.post(f"{API}/auth/login", json={"username": username, "password": password})
    if r.status_code != 200:
        raise RunFailed(f"sign-in as {username} answered {r.status_code}: {r.text[:300]}")
    body: dict[str, Any] = r.json()
    return body


async def sign_in(client: httpx.AsyncClient, username: str, password: str, may_change: bool) -> Session:
    """Sign in; an account still on an administrator-set password changes it (when
    ``may_change``) and signs in again. The session must have full scope."""
    body = await login(client, username, password)
    if body.get("scope") == "password_change":
        if not may_change:
            raise RunFailed(f"{username} must change its password first (sign in once and change it)")
        new = strong_password()
        r = await client.post(
            f"{API}/auth/password",
            json={"current_password": password, "new_password": new},
            headers=bearer(str(body["access_token"])),
        )
        if r.status_code != 204:
            raise RunFailed(f"the password change answered {r.status_code}: {r.text[:300]}")
        body = await login(client, username, new)
    if body.get("scope") != "full":
        raise RunFailed(f"{username}: session scope is {body.get('scope')!r}, not 'full' (a second factor required?)")
    token = str(body["access_token"])
    r = await client.get(f"{API}/auth/me", headers=bearer(token))
    if r.status_code != 200:
        raise RunFailed(f"GET /auth/me answered {r.status_code}: {r.text[:300]}")
    me = r.json()
    return Session(
        token=token,
        username=str(me["username"]),
        role=str(me["role"]),
        expires_in=int(body["expires_in"]),
        expires_at=str(body["expires_at"]),
        district=me.get("district_code"),
    )


async def new_city_official(client: httpx.AsyncClient, env: dict[str, str]) -> Session:
    """``banshi users create --role official`` (no district: city-wide), then the first sign-in."""
    username, password = f"console-city-{uuid.uuid4().hex[:6]}", strong_password()
    await asyncio.to_thread(cli_create_user, env, "official", username, password)
    return await sign_in(client, username, password, may_change=True)


# --------------------------------------------------------------------------- one load


@dataclass
class Load:
    figures: dict[str, float | None]
    api: list[dict[str, Any]]
    assets: dict[str, float]
    document_bytes: float | None
    in_flight: list[str] = field(default_factory=list)
    """API requests with no answer yet when the figures were read."""


class Watch:
    """What a page reports while it loads: console errors, uncaught exceptions, failed
    requests, API answers of 400 and above, API requests with no answer yet (no status
    line and headers: Chromium finishes a request only once the page reads its body)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.bad_api: list[str] = []
        self.pending: dict[Request, str] = {}

    def attach(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                self.errors.append(f"console.{message.type}: {message.text}")

        def on_request(request: Request) -> None:
            if "/api/" in request.url:
                self.pending[request] = f"{request.method} {short(request.url)}"

        def on_finished(request: Request) -> None:
            self.pending.pop(request, None)

        def on_failed(request: Request) -> None:
            self.pending.pop(request, None)
            self.failed.append(f"{request.method} {short(request.url)}: {request.failure}")

        def on_response(response: Response) -> None:
            self.pending.pop(response.request, None)
            if "/api/" in response.url and response.status >= 400:
                self.bad_api.append(f"{response.request.method} {short(response.url)}: HTTP {response.status}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("request", on_request)
        page.on("requestfinished", on_finished)
        page.on("requestfailed", on_failed)
        page.on("response", on_response)

    def report(self) -> str:
        lines = []
        for title, items in (
            ("console errors and warnings", self.errors),
            ("failed requests", self.failed),
            ("API answers of 400 and above", self.bad_api),
            ("API requests with no answer yet", list(self.pending.values())),
        ):
            lines.append(f"{title}: " + ("none" if not items else ""))
            lines += [f"  {item[:400]}" for item in items[:30]]
        return "\n".join(lines)


def short(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def load_once(browser: Browser, base: str, session: Session, limit: float, screenshot: Path) -> Load:
    context = await browser.new_context(**CONTEXT_OPTIONS)
    try:
        await context.add_init_script(script=session.init_script())
        page = await context.new_page()
        watch = Watch()
        watch.attach(page)
        deadline = time.monotonic() + limit

        def left_ms() -> float:
            return max(1.0, (deadline - time.monotonic()) * 1000)

        try:
            response = await page.goto(base + DASHBOARD, wait_until="commit", timeout=left_ms())
            if response is None or response.status >= 400:
                status = "no answer" if response is None else f"HTTP {response.status}"
                raise NotReady(f"GET /staff/ answered {status}: does the service serve console/dist at /staff/?")
            try:
                await page.wait_for_function(MARK_SEEN, timeout=left_ms(), polling=50)
            except PlaywrightTimeout:
                raise NotReady(f"the mark {READY_MARK!r} did not appear within {limit:g} s") from None
            with contextlib.suppress(PlaywrightTimeout):  # loadEventEnd is then reported as missing
                await page.wait_for_function(LOADED, timeout=left_ms(), polling=50)
            raw = await page.evaluate(COLLECT, READY_MARK)
        except (NotReady, PlaywrightError) as exc:
            raise NotReady(f"{exc}\n{await describe(page, screenshot)}\n{watch.report()}") from None
        figures = {
            "responseStart": raw["responseStart"],
            "domContentLoaded": raw["domContentLoaded"],
            "loadEventEnd": raw["loadEventEnd"],
            "dashboard-data": raw["data"],
            "dashboard-ready": raw["ready"],
        }
        return Load(figures, raw["api"], raw["assets"], raw["documentBytes"], list(watch.pending.values()))
    finally:
        await context.close()


async def describe(page: Page, screenshot: Path) -> str:
    """Where the page is and what it shows; a full-page screenshot saved to ``screenshot``."""
    lines = []
    try:
        await page.screenshot(path=str(screenshot), full_page=True, timeout=10_000)
        lines.append(f"screenshot: {screenshot}")
    except Exception as exc:  # a report on a failure must not fail itself
        lines.append(f"screenshot failed: {exc}")
    try:
        state = await page.evaluate(
            "() => ({href: location.href, title: document.title, "
            "text: (document.body ? document.body.innerText : '').trim().slice(0, 1200), "
            "marks: performance.getEntriesByType('mark').map(m => m.name)})"
        )
        text = state["text"].replace("\n", " | ") or "(empty)"
        lines += [
            f"page: {state['href']} (title {state['title']!r})",
            f"performance marks: {state['marks'] or 'none'}",
            f"page text: {text}",
        ]
    except Exception as exc:
        lines.append(f"the page could not be read: {exc}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- report


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def show_figures(cold: Load, warm: list[Load]) -> None:
    print(f"\n{'ms from navigation start':<26}{'cold':>6}{'warm median':>13}{'warm max':>10}")
    for key in FIGURES:
        values = [v for v in (w.figures[key] for w in warm) if v is not None]
        median = statistics.median(values) if values else None
        top = max(values) if values else None
        missing = f"   ({len(warm) - len(values)} warm loads without it)" if warm and len(values) < len(warm) else ""
        print(f"{key:<26}{ms(cold.figures[key]):>6}{ms(median):>13}{ms(top):>10}{missing}")
    kib = 1024
    print(
        f"\ncold load: the document {(cold.document_bytes or 0) / kib:.1f} KiB; {int(cold.assets['count'])} other "
        f"files, {cold.assets['transferred'] / kib:.0f} KiB transferred ({cold.assets['decoded'] / kib:.0f} KiB "
        "decoded)"
    )


def show_api(cold: Load, warm: list[Load]) -> None:
    ready = cold.figures["dashboard-ready"]
    print(f"\nAPI requests of the cold load ({len(cold.api)}; start and duration in ms, wait = request to first byte):")
    print(f"  {'start':>7}{'duration':>10}{'wait':>7}{'status':>7}  path")
    for r in sorted(cold.api, key=lambda r: r["start"]):
        after = "  (after the mark)" if ready is not None and r["start"] > ready else ""
        status = str(r["status"] or "?")
        print(f"  {r['start']:>7.0f}{r['duration']:>10.1f}{ms(r['wait']):>7}{status:>7}  {r['path']}{after}")
    if cold.in_flight:
        print(f"  with no answer yet when the figures were read: {', '.join(cold.in_flight)}")
    if not warm:
        return
    by_path: dict[str, list[float]] = {}
    for w in warm:
        for r in w.api:
            by_path.setdefault(r["path"], []).append(r["duration"])
    print(f"\nAPI requests of the {len(warm)} warm loads (duration in ms):")
    print(f"  {'loads':>5}{'median':>9}{'max':>8}  path")
    for path, values in by_path.items():
        print(f"  {len(values):>5}{statistics.median(values):>9.1f}{max(values):>8.1f}  {path}")
    counts = sorted({len(w.api) for w in warm})
    print(f"  API requests per warm load: {', '.join(map(str, counts))}")


# --------------------------------------------------------------------------- the run


async def database_for(args: argparse.Namespace, build: bool) -> tuple[str, dict[str, str], int]:
    """The database URL, its kept keys and its cases. With ``build``, bench/load.py's
    helper builds it when it is missing or short of ``--cases``; without, it must be there."""
    pg = args.pg.rstrip("/")
    url = f"{pg}/{args.database}"
    held = await scalar(url, 'SELECT count(*) FROM "case"')
    keys = read_keys(keys_file(args.database))
    if held and keys is None and not args.rebuild:
        raise RunFailed(
            f"database {args.database} holds {held:,} cases but its keys ({keys_file(args.database)}) are not "
            "kept: pass --rebuild to build it again, or --url with --username for a server that has them"
        )
    if not build:
        if keys is None or held is None:
            raise RunFailed(f"database {args.database} is missing or has no kept keys; run without --url first")
        return url, keys, int(held)
    started = time.monotonic()
    url, keys, held = await prepare_database(pg, args.database, args.cases, args.rebuild)
    if time.monotonic() - started > 60:
        print(f"database {args.database}: ready in {time.monotonic() - started:.0f} s", flush=True)
    return url, keys, int(held)


async def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="banshi-console-"))
    server: Server | None = None
    db_url, keys, env = "", dict[str, str](), dict[str, str]()
    version = await scalar(f"{args.pg.rstrip('/')}/postgres", "SHOW server_version")
    print(machine_line(str(version) if version else None))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    try:
        if args.url is None or args.username is None:
            db_url, keys, held = await database_for(args, build=args.url is None)
            env = {**clean_environ(), **keys, "DATABASE_URL": db_url}
            if args.url is not None:
                print(f"database {args.database}: {held:,} cases (the server at --url must use it)")
        if args.url is None:
            extra = {**keys, **QUIET_SERVER, "BANSHI_DATA_DIR": str(work / "data")}
            server = start_server(db_url, args.workers, work / "banshi.log", extra)
            try:
                await wait_healthy(server, time.monotonic() + args.startup_timeout)
            except (RuntimeError, TimeoutError) as exc:
                raise RunFailed(f"banshi serve did not start: {exc}\n--- log (tail) ---\n{server.tail()}") from exc
            base = server.url
            settings = ", ".join(f"{k}={v}" for k, v in QUIET_SERVER.items())
            print(f"banshi serve --workers {args.workers} at {base} ({settings}); log {server.log}")
        else:
            base = args.url.rstrip("/")
            print(f"server: {base} (already running)")
        async with httpx.AsyncClient(base_url=base, timeout=60, trust_env=False) as client:
            r = await client.get("/staff/")
            if r.status_code != 200:
                raise RunFailed(f"GET /staff/ answered {r.status_code}: the service does not serve the console")
            if args.username is not None:
                password = os.environ.get(args.password_env)
                if not password:
                    raise RunFailed(f"--username needs its password in the environment variable {args.password_env}")
                session = await sign_in(client, args.username, password, may_change=False)
            else:
                session = await new_city_official(client, env)
        scope = f"district {session.district}" if session.district else "city-wide"
        print(
            f"signed in as {session.username} (role {session.role}, {scope}); session expires_in {session.expires_in} s"
        )
        if session.role != "official" or session.district:
            print("note: not a city-wide official: the dashboard may show less, or other figures")

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                print(f"browser: Chromium {browser.version}, headless; {base}{DASHBOARD}", flush=True)
                try:
                    cold = await load_once(browser, base, session, args.timeout, args.screenshot)
                    print(f"cold load: ready at {ms(cold.figures['dashboard-ready'])} ms", flush=True)
                    warm: list[Load] = []
                    for _ in range(args.repeats):
                        warm.append(await load_once(browser, base, session, args.timeout, args.screenshot))
                    readies = " ".join(ms(w.figures["dashboard-ready"]) for w in warm)
                    print(f"warm loads: ready at {readies or '(none)'} ms")
                except NotReady as exc:
                    print(f"\nthe dashboard did not get ready: {exc}", file=sys.stderr)
                    return 1
            finally:
                await browser.close()
        show_figures(cold, warm)
        show_api(cold, warm)
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work / "data", ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--repeats", type=int, default=10, help="warm loads after the cold one (default 10)")
    p.add_argument("--url", help="a server already running (loopback only) instead of one of our own")
    p.add_argument("--username", help="an existing account to sign in as (with --url); default: a new official")
    p.add_argument(
        "--password-env", default="BENCH_PASSWORD", help="the variable holding --username's password (BENCH_PASSWORD)"
    )
    p.add_argument("--database", default="banshi_load", help="the database on --pg (default banshi_load)")
    p.add_argument("--cases", type=int, default=1_000_000, help="cases the database holds at least (default 1M)")
    p.add_argument("--rebuild", action="store_true", help="build the database again even if it would do")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL (loopback only)")
    p.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    p.add_argument("--timeout", type=float, default=60, help="seconds a load may take to reach the mark (default 60)")
    p.add_argument(
        "--screenshot", type=Path, default=SCREENSHOT, help=f"where a failed load's shot goes ({SCREENSHOT})"
    )
    p.add_argument("--startup-timeout", type=float, default=180, help="seconds to wait for GET /health")
    args = p.parse_args(argv)
    if args.repeats < 0 or args.workers < 1 or args.timeout <= 0:
        p.error("--repeats must be 0 or more, --workers at least 1, --timeout positive")
    if args.username is not None and args.url is None:
        p.error("--username goes with --url (our own server gets a new official)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_loopback(urlsplit(args.pg).hostname, "--pg")
    if args.url is not None:
        require_loopback(urlsplit(args.url).hostname, "--url")
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    if args.url is None and not (REPO / "console" / "dist" / "index.html").is_file():
        print("console/dist is not built: run `npm ci && npm run build` in console/", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args))
    except (CommandFailed, OSError, subprocess.SubprocessError, httpx.HTTPError) as exc:
        print(f"the run could not be made: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
