"""The deployment's proxy: deploy/nginx/ checked by nginx itself, then run.

compose's nginx.conf runs as it is, but for its addresses, with a name server standing in for
Docker's that gives two addresses for `api`, and two stand-in replicas there: it shows how
requests are spread, how a replica that is gone is passed over, and what the replicas are told.

Then compose's topology without containers: two ``banshi serve`` replicas on one database with
the same keys, one Redis that asks for a password, and a real nginx in front running
deploy/nginx/banshi.conf (the part of the configuration that handles requests; the generated
part only says where to listen and where the replicas are, round robin, and names the replica
that answered in an ``X-Upstream`` header). As in compose, the replicas trust X-Forwarded-For
from the proxy's address only: nginx connects to them from 127.0.0.3 (``proxy_bind``) and
FORWARDED_ALLOW_IPS names that address. Two clients with different addresses are two loopback
source addresses, 127.0.0.1 and 127.0.0.2 (Linux answers on all of 127.0.0.0/8).

The nginx and redis-server of the machine are used (.ci/run installs them); without one the
tests are skipped, saying which.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest

from service.api.imports import IMPORT_BODY_LIMIT
from service.security.keys import Keys
from tests.factory import ADMIN_PASSWORD, API
from tests.live import REDIS_SERVER, ROOT, Running, free_port, private_redis, running_banshi_serve, service_env

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
DEPLOY = ROOT / "deploy" / "nginx"
PROXY_ADDRESS = "127.0.0.3"
"""Where nginx connects to the replicas from: the one address they trust X-Forwarded-For from."""
CLIENT_A, CLIENT_B = "127.0.0.1", "127.0.0.2"

needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")


def nginx_test(config: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    prefix.mkdir(parents=True, exist_ok=True)
    assert NGINX is not None
    return subprocess.run(
        [NGINX, "-t", "-c", str(config), "-p", str(prefix), "-e", str(prefix / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


# --- the configuration as written ---------------------------------------------------------


@needs_nginx
def test_nginx_accepts_the_deployment_configuration(tmp_path: Path) -> None:
    """nginx -t on compose's configuration as it is: the replicas' name is resolved when a
    request needs it, so no name has to be resolvable here."""
    checked = nginx_test(DEPLOY / "nginx.conf", tmp_path / "prefix")
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    # The check can fail: a directive nginx does not know is refused.
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(DEPLOY / "banshi.conf", broken / "banshi.conf")
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    (broken / "nginx.conf").write_text(text.replace("server_tokens off;", "server_tokenz off;"), encoding="utf-8")
    refused = nginx_test(broken / "nginx.conf", tmp_path / "prefix")
    assert refused.returncode != 0
    assert "server_tokenz" in refused.stderr


def _directives(text: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]*);", text, flags=re.MULTILINE)


def _locations(text: str) -> dict[str, str]:
    """Each top-level location's argument and its body."""
    return {m[1].strip(): m[2] for m in re.finditer(r"^location\s+([^{]+)\{(.*?)^\}", text, re.MULTILINE | re.DOTALL)}


def test_the_proxy_takes_the_largest_body_the_service_takes_and_sets_the_forwarding_headers() -> None:
    text = (DEPLOY / "banshi.conf").read_text(encoding="utf-8")
    (size,) = _directives(text, "client_max_body_size")
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 == IMPORT_BODY_LIMIT
    headers = dict(value.split(None, 1) for value in _directives(text, "proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$remote_addr"  # replaced, never the client's own
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Request-ID"] == "$request_id"
    locations = _locations(text)
    proxying = {name: body for name, body in locations.items() if "proxy_pass" in body}
    assert {"/", "~ /export$"} <= set(proxying)
    assert all("proxy_pass http://$banshi_api;" in body for body in proxying.values())
    # None sets headers of its own, which would drop the server's.
    assert not any("proxy_set_header" in body or "add_header" in body for body in proxying.values())
    assert "proxy_buffering off;" in proxying["~ /export$"]
    main = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert _directives(main, "resolver") == ["127.0.0.11 valid=10s ipv6=off"]
    assert _directives(main, "set") == ["$banshi_api api:8000"]
    assert _directives(main, "include") == ["banshi.conf"]


# --- the deployment's configuration, live ----------------------------------------------------


class NameServer(asyncio.DatagramProtocol):
    """A DNS server for one name, as Docker's answers for a service: an A record for each
    address in ``addresses``; other names do not exist. Counts the questions."""

    def __init__(self, name: str, addresses: list[str]) -> None:
        self.name, self.addresses, self.questions = name, addresses, 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.DatagramTransport", transport)  # uvloop's is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        end, labels = 12, []
        while data[end]:
            labels.append(data[end + 1 : end + 1 + data[end]].decode())
            end += 1 + data[end]
        question = data[12 : end + 5]
        asks_for_a = data[end + 1 : end + 3] == b"\x00\x01"
        known = ".".join(labels).lower() == self.name
        self.questions += 1
        answers = self.addresses if known and asks_for_a else []
        flags = b"\x81\x80" if known else b"\x81\x83"  # a response, recursion available; NXDOMAIN
        header = data[:2] + flags + b"\x00\x01" + len(answers).to_bytes(2, "big") + b"\x00" * 4
        records = b"".join(
            b"\xc0\x0c\x00\x01\x00\x01" + (1).to_bytes(4, "big") + b"\x00\x04" + socket.inet_aton(a) for a in answers
        )
        assert self.transport is not None
        self.transport.sendto(header + question + records, addr)


class Replica:
    """A stand-in for an API replica: answers every request with its own address and keeps
    the headers it was sent."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.received: list[dict[str, str]] = []

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")[1:]
        self.received.append(
            {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head if line)}
        )
        body = self.address.encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()


def deployment_conf(folder: Path, name_server: int, api_port: int) -> tuple[Path, int, int]:
    """deploy/nginx/nginx.conf as it is, but for where it listens, writes and asks for names, and
    the replicas' port; with banshi.conf beside it. Returns it, its port and its health port."""
    port, health = free_port(), free_port()
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    replacements = {
        "pid /run/nginx.pid;": f"pid {folder / 'nginx.pid'};",
        "access_log /dev/stdout banshi;": f"access_log {folder / 'access.log'} banshi;",
        "resolver 127.0.0.11 ": f"resolver 127.0.0.1:{name_server} ",
        "listen 8080 default_server;": f"listen {CLIENT_A}:{port} default_server;",
        "listen 127.0.0.1:8081;": f"listen 127.0.0.1:{health};",
        "set $banshi_api api:8000;": f"set $banshi_api api:{api_port};",
        "\nhttp {\n": "\nhttp {\n" + temp_paths(folder),
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"deploy/nginx/nginx.conf no longer has {old!r} once: change this test with it"
        text = text.replace(old, new)
    (folder / "nginx.conf").write_text(text, encoding="utf-8")
    shutil.copy(DEPLOY / "banshi.conf", folder / "banshi.conf")
    return folder / "nginx.conf", port, health


@needs_nginx
async def test_the_deployment_configuration_spreads_requests_over_every_address_of_the_name(tmp_path: Path) -> None:
    """compose's nginx.conf, with a name server standing in for Docker's and two stand-in
    replicas at the two addresses it gives for `api`."""
    name_server = NameServer("api", ["127.0.0.4", "127.0.0.5"])
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: name_server, local_addr=("127.0.0.1", 0)
    )
    api_port = free_port()
    replicas = {address: Replica(address) for address in name_server.addresses}
    servers = {a: await asyncio.start_server(r.answer, a, api_port) for a, r in replicas.items()}
    try:
        config, port, health = deployment_conf(tmp_path, transport.get_extra_info("sockname")[1], api_port)
        async with (
            running_nginx(config, port) as proxy,
            httpx.AsyncClient(base_url=proxy, timeout=10, trust_env=False) as client,
        ):
            claims = {"X-Forwarded-For": "198.51.100.7", "Forwarded": "for=198.51.100.8", "X-Request-ID": "mine-0001"}
            answers = [await client.get(f"{API}/cases", headers=claims) for _ in range(40)]
            assert [r.status_code for r in answers] == [200] * 40
            counts = Counter(r.text for r in answers)
            assert set(counts) == set(replicas) and min(counts.values()) >= 5, counts
            assert name_server.questions >= 1

            # What the replicas were told: the address nginx saw, not the client's claims.
            received = [headers for replica in replicas.values() for headers in replica.received]
            assert {h["x-forwarded-for"] for h in received} == {CLIENT_A}
            assert {h["x-forwarded-proto"] for h in received} == {"http"}
            assert not any("forwarded" in h for h in received)
            assert all(re.fullmatch(r"[0-9a-f]{32}", h["x-request-id"]) for h in received)
            logged = [json.loads(line) for line in (tmp_path / "access.log").read_text().splitlines()]
            assert {line["client"] for line in logged} == {CLIENT_A}
            assert {line["request_id"] for line in logged} == {h["x-request-id"] for h in received}

            # A replica that is gone refuses the connection, and the other answers instead.
            servers["127.0.0.5"].close()
            await servers["127.0.0.5"].wait_closed()
            after = [await client.get("/health") for _ in range(10)]
            assert [(r.status_code, r.text) for r in after] == [(200, "127.0.0.4")] * 10

            # None left: 503 problem+json; nginx's own health check still answers.
            servers["127.0.0.4"].close()
            await servers["127.0.0.4"].wait_closed()
            gone = await client.get("/health")
            assert gone.status_code == 503, gone.text
            assert gone.headers["content-type"] == "application/problem+json"
            assert gone.json()["status"] == 503
            itself = await client.get(f"http://127.0.0.1:{health}/health")
            assert (itself.status_code, itself.text) == (200, "ok\n")
    finally:
        transport.close()
        for server in servers.values():
            server.close()


# --- the topology, live ---------------------------------------------------------------------


def temp_paths(folder: Path) -> str:
    """nginx's temporary folders inside ``folder`` (the compiled-in ones may not be writable)."""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return "".join(f"    {kind}_temp_path {folder / kind};\n" for kind in kinds)


def replicas_behind_banshi_conf(folder: Path, replicas: Iterable[str]) -> tuple[Path, int]:
    """A configuration with banshi.conf in front of ``replicas`` (host:port each, round robin),
    connecting from the proxy's address and naming the replica that answered in X-Upstream."""
    port = free_port()
    servers = "".join(f"        server {replica};\n" for replica in replicas)
    config = folder / "nginx.conf"
    config.write_text(
        f"""pid {folder / "nginx.pid"};
events {{ worker_connections 256; }}
http {{
    access_log {folder / "access.log"};
{temp_paths(folder)}
    upstream banshi_replicas {{
{servers}    }}
    server {{
        listen {CLIENT_A}:{port};
        set $banshi_api banshi_replicas;
        proxy_bind {PROXY_ADDRESS};
        add_header X-Upstream $upstream_addr always;
        include {DEPLOY / "banshi.conf"};
    }}
}}
""",
        encoding="utf-8",
    )
    return config, port


@asynccontextmanager
async def running_nginx(config: Path, port: int) -> AsyncIterator[str]:
    """nginx with ``config`` in the foreground as a single process (no workers, so no change of
    user); yields its base URL once it accepts connections on ``port``."""
    assert NGINX is not None
    folder = config.parent
    log = folder / "error.log"
    with (folder / "stdout.log").open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            NGINX, "-c", str(config), "-p", str(folder), "-e", str(log), "-g", "daemon off; master_process off;",
            stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.returncode is None, log.read_text(errors="replace")
            try:
                _, writer = await asyncio.open_connection(CLIENT_A, port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                await asyncio.sleep(0.05)
        yield f"http://{CLIENT_A}:{port}"
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def client_from(address: str, base: str, token: str | None = None) -> httpx.AsyncClient:
    """An HTTP client whose connections leave from ``address`` (a loopback address)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base, transport=transport, headers=headers, timeout=15, trust_env=False)


@needs_nginx
@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)")
async def test_two_replicas_behind_the_proxy_share_sessions_and_count_each_client_address(
    database_url: str, tmp_path: Path, test_keys: Keys
) -> None:
    password = secrets.token_hex(16)
    async with AsyncExitStack() as stack:
        redis_port = await stack.enter_async_context(private_redis(tmp_path, password))
        env = service_env(
            test_keys,
            database_url,
            tmp_path,
            BANSHI_REDIS_URL=f"redis://:{password}@127.0.0.1:{redis_port}/0",
            FORWARDED_ALLOW_IPS=PROXY_ADDRESS,
            BANSHI_LOGIN_LIMIT_PER_ADDRESS="3",
            BANSHI_LOOKUP_LIMIT_PER_ADDRESS="4",
            # A sign-out is seen by the other replica on its next request (README: with the
            # default 5 s, a replica may honour a signed-out token for up to 5 s).
            BANSHI_SIGN_IN_CACHE_SECONDS="0",
            BANSHI_REMINDER_SECONDS="0",
            BANSHI_DELIVERY_WORKER="separate",
        )
        replicas = await start_together(stack, [serve_replica(env, tmp_path, name) for name in ("one", "two")])
        replica_of = {r.url.removeprefix("http://"): r for r in replicas}
        (tmp_path / "nginx").mkdir()
        config, port = replicas_behind_banshi_conf(tmp_path / "nginx", replica_of)
        proxy = await stack.enter_async_context(running_nginx(config, port))

        a = await stack.enter_async_context(client_from(CLIENT_A, proxy + API))
        b = await stack.enter_async_context(client_from(CLIENT_B, proxy + API))

        # The front ends and the health check pass through.
        for path in ("/health", "/", "/staff/"):
            answered = await a.get(proxy + path)
            assert answered.status_code == 200, (path, answered.text[:200])
        console = await a.get(proxy + "/staff/")
        assert "text/html" in console.headers["content-type"]
        # Its scripts are compressed on the way (the service compresses nothing)...
        script = re.search(r'src="([^"]+[.]js)"', console.text)
        assert script, console.text[:500]
        assert (await a.get(proxy + script[1])).headers["content-encoding"] == "gzip"

        # (a) One sign-in holds on both replicas.
        signed_in = await a.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["access_token"]
        a.headers["Authorization"] = f"Bearer {token}"
        seen = [await a.get("/auth/me") for _ in range(4)]
        assert [r.status_code for r in seen] == [200] * 4
        assert "content-encoding" not in seen[0].headers  # ...JSON is not
        assert {r.headers["x-upstream"] for r in seen} == set(replica_of)
        # nginx's request id replaces the client's and is the one the API answers with.
        answered = await a.get("/auth/me", headers={"X-Request-ID": "chosen-by-the-client"})
        assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["x-request-id"])

        # The sign-in was recorded with the client's address, not the proxy's.
        assert await session_addresses(database_url) == [CLIENT_A]

        # A streamed export arrives whole through the proxy, compressed.
        export = await a.get("/metrics/items/export", params={"format": "csv"})
        assert export.status_code == 200, export.text[:300]
        assert export.headers["content-type"].startswith("text/csv")
        assert export.headers["content-encoding"] == "gzip"
        assert "合计" in export.text

        # (b) Sign-in attempts from one address count on both replicas together: the admin's
        # sign-in was the first of three allowed, two more are let through, then 429.
        attempts = [await a.post("/auth/login", json={"username": "nobody", "password": "wrong"}) for _ in range(2)]
        assert [r.status_code for r in attempts] == [401, 401]
        refused = [await a.post("/auth/login", json={"username": "nobody", "password": "wrong"}) for _ in range(2)]
        assert [r.status_code for r in refused] == [429, 429]
        landed = {r.headers["x-upstream"] for r in [signed_in, *attempts, *refused]}
        assert landed == set(replica_of), "the attempts did not reach both replicas"
        assert all(r.headers["content-type"] == "application/problem+json" for r in refused)

        # Claiming another address does not help: through the proxy the header is replaced...
        forged = {"X-Forwarded-For": "198.51.100.7"}
        through_proxy = await a.post("/auth/login", json={"username": "nobody", "password": "x"}, headers=forged)
        assert through_proxy.status_code == 429
        # ...and a replica asked directly from an address that is not the proxy's ignores it.
        one = replicas[0].url + API
        async with client_from(CLIENT_A, one) as direct:
            ignored = await direct.post("/auth/login", json={"username": "nobody", "password": "x"}, headers=forged)
        assert ignored.status_code == 429
        # From the proxy's address the same header is believed (a fresh address: 401, not 429).
        async with client_from(PROXY_ADDRESS, one) as as_the_proxy:
            believed = await as_the_proxy.post(
                "/auth/login", json={"username": "nobody", "password": "x"}, headers={"X-Forwarded-For": "198.51.100.9"}
            )
        assert believed.status_code == 401, believed.text

        # Another client address through the same proxy has a count of its own.
        other = await b.post("/auth/login", json={"username": "nobody", "password": "wrong"})
        assert other.status_code == 401, other.text
        second = await b.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert second.status_code == 200, second.text
        assert await session_addresses(database_url) == [CLIENT_A, CLIENT_B]

        # The lookup limit is counted in the password-protected Redis, per address, over both
        # replicas: four lookups from A, then 429 from either replica; B still has its own.
        number = f"BS-20990101-{uuid.uuid4().int % 10_000:04d}"
        lookups = [await a.get("/lookup", params={"case_no": number, "code": "2222-2222"}) for _ in range(6)]
        assert [r.status_code for r in lookups] == [404] * 4 + [429] * 2
        assert {r.headers["x-upstream"] for r in lookups[4:]} == set(replica_of)
        assert (await b.get("/lookup", params={"case_no": number, "code": "2222-2222"})).status_code == 404
        assert redis_refuses_without_password(redis_port)

        # (a, continued) Signing out on one replica ends the session on both.
        signed_out = await a.post("/auth/logout")
        assert signed_out.status_code == 204, signed_out.text
        after = [await a.get("/auth/me") for _ in range(2)]
        assert [r.status_code for r in after] == [401, 401]
        assert {r.headers["x-upstream"] for r in after} == set(replica_of)
        assert signed_out.headers["x-upstream"] in {r.headers["x-upstream"] for r in after}

        # nginx's own refusals are problem+json too: a body over the largest the service takes...
        too_large = await raw_request(
            proxy, f"POST {API}/imports HTTP/1.1\r\nHost: x\r\nContent-Length: {IMPORT_BODY_LIMIT + 1}\r\n\r\n"
        )
        assert too_large.startswith("HTTP/1.1 413"), too_large
        assert "application/problem+json" in too_large and '"status":413' in too_large
        # ...and no replica answering.
        for replica in replicas:
            replica.process.terminate()
            await replica.process.wait()
        gone = await a.get("/health")
        assert gone.status_code == 503
        assert gone.headers["content-type"] == "application/problem+json"
        assert gone.headers["retry-after"] == "5"
        assert gone.json()["type"] == "/problems/unavailable"


def serve_replica(env: dict[str, str], folder: Path, name: str) -> AbstractAsyncContextManager[Running]:
    """A ``banshi serve`` with ``env`` and a data folder of its own (where it notes its address)."""
    (folder / name).mkdir()
    return running_banshi_serve({**env, "BANSHI_DATA_DIR": str(folder / name)}, folder / f"{name}.log")


async def start_together(stack: AsyncExitStack, starting: list[AbstractAsyncContextManager[Running]]) -> list[Running]:
    """Enter every context at once (each is stopped with ``stack``), and raise the first failure
    once all have finished starting."""
    started = await asyncio.gather(*(stack.enter_async_context(c) for c in starting), return_exceptions=True)
    for outcome in started:
        if isinstance(outcome, BaseException):
            raise outcome
    return [outcome for outcome in started if not isinstance(outcome, BaseException)]


async def session_addresses(database_url: str) -> list[str]:
    """The client address of each sign-in's session, oldest first."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT client_addr FROM auth_session ORDER BY created_at, client_addr")
    finally:
        await connection.close()
    return [row["client_addr"] for row in rows]


def redis_refuses_without_password(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(200).startswith(b"-NOAUTH")


async def raw_request(base: str, head: str) -> str:
    """Send ``head`` as it is (no body follows) and read the answer."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode())
        await writer.drain()
        return (await asyncio.wait_for(reader.read(4096), timeout=10)).decode(errors="replace")
    finally:
        writer.close()
