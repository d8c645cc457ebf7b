"""A real browser on the IGV page: headless Chromium (Debian's) loads
`experiments/igv/<system_id>` from a uvicorn server on 127.0.0.1, against a small BAM and
FASTA made here with samtools, and igv.js must draw reads.

Only the page request carries credentials (added through the DevTools protocol); igv.js'
range requests must get in through the page's signed links, and every request must stay on
this server (igv.js is served by labapi; nothing is fetched from the internet).

Chromium and samtools come from Debian (`make test-deps`, run by `make test`); their
absence fails this test rather than skipping it.
"""

import asyncio
import base64
import json
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

from labapi.auth.models import User
from labapi.auth.tokens import issue_token
from labapi.core.db import create_engine, create_sessionmaker
from labapi.core.migrate import upgrade
from labapi.core.settings import Settings
from labapi.main import create_app
from tests.isabl.factories import make_assembly, make_experiment

pytestmark = pytest.mark.sqlite

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--remote-debugging-port=0",
    "--window-size=1200,800",
]
READS = 60
READ_LENGTH = 50
# Each read is drawn about 100 x 10 pixels at the locus asked for: half of them suffice.
MIN_READ_PIXELS = READS * 500
DEADLINE = 90.0  # seconds: a bound on waiting, never a measured assertion


def tool(name: str, *alternatives: str) -> str:
    """The path of a required program; a missing one fails (CI must install it)."""
    for candidate in (name, *alternatives):
        found = shutil.which(candidate)
        if found:
            return found
    pytest.fail(f"{name} is not installed: run `make test-deps` (Debian packages)")


def make_data(root: Path, samtools: str) -> tuple[Path, Path]:
    """A one-chromosome FASTA (with .fai) and a sorted, indexed BAM of reads on it."""
    rng = random.Random(7)
    sequence = "".join(rng.choice("ACGT") for _ in range(2000))
    fasta = root / "genome.fa"
    fasta.write_text(">chr1\n" + "\n".join(sequence[i : i + 60] for i in range(0, 2000, 60)) + "\n")
    subprocess.run([samtools, "faidx", str(fasta)], check=True)
    lines = ["@HD\tVN:1.6\tSO:unsorted", "@SQ\tSN:chr1\tLN:2000"]
    for n in range(READS):
        pos = 100 + 7 * n
        seq = sequence[pos - 1 : pos - 1 + READ_LENGTH]
        lines.append(
            f"r{n}\t0\tchr1\t{pos}\t60\t{READ_LENGTH}M\t*\t0\t0\t{seq}\t{'I' * READ_LENGTH}"
        )
    sam = root / "reads.sam"
    sam.write_text("\n".join(lines) + "\n")
    bam = root / "reads.bam"
    subprocess.run([samtools, "sort", "-o", str(bam), str(sam)], check=True)
    subprocess.run([samtools, "index", str(bam)], check=True)
    return fasta, bam


async def seed(settings: Settings, fasta: Path, bam: Path) -> tuple[str, str]:
    """Migrate a fresh database and store a user, an assembly and an experiment."""
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: upgrade(connection=sync_conn))
        async with create_sessionmaker(engine)() as session:
            user = User(username="viewer", password="")
            session.add(user)
            await session.flush()
            key = await issue_token(session, user)
            await make_assembly(session, name="GRCh37", reference_data={"genome_fasta": str(fasta)})
            experiment = await make_experiment(
                session, bam_files={"GRCh37": {"url": str(bam), "analysis": None}}
            )
            system_id = experiment.system_id
            await session.commit()
    finally:
        await engine.dispose()
    assert system_id is not None
    return key, system_id


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A labapi server on 127.0.0.1 with data to view: (base URL, API key, system id)."""
    samtools = tool("samtools")
    root = tmp_path / "storage"
    root.mkdir()
    fasta, bam = make_data(root, samtools)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}",
        secret_key="browser-test-secret",
        storage_roots=[str(root)],
    )
    key, system_id = asyncio.run(seed(settings, fasta, bam))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE
    while not server.started:
        assert thread.is_alive(), "the server stopped"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", key, system_id
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class DevTools:
    """The few DevTools protocol calls this test needs, over one browser websocket."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.on_event: Any = None

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> int:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        return self.next_id

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        wanted = self.send(method, params, session)
        while True:
            message = json.loads(self.ws.recv(timeout=DEADLINE))
            if message.get("id") == wanted:
                assert "error" not in message, (method, message["error"])
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)
                if self.on_event is not None:
                    self.on_event(message)


# igv.js 3 draws in canvases inside a shadow root; reads are filled with READ_GRAY.
RENDERED_JS = """
(() => {
  const state = document.body ? document.body.dataset.igv : "none";
  if (state !== "ready") return {state};
  const canvases = [];
  const walk = (root) => {
    for (const element of root.querySelectorAll("*")) {
      if (element.tagName === "CANVAS") canvases.push(element);
      if (element.shadowRoot) walk(element.shadowRoot);
    }
  };
  walk(document);
  const colors = {};
  for (const canvas of canvases) {
    const context = canvas.getContext("2d");
    if (!context || !canvas.width || !canvas.height) continue;
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] === 0) continue;
      const key = pixels[i] + "," + pixels[i + 1] + "," + pixels[i + 2];
      colors[key] = (colors[key] || 0) + 1;
    }
  }
  const top = Object.entries(colors).sort((a, b) => b[1] - a[1]).slice(0, 8);
  const tracks = window.igvBrowser.findTracks(t => t.type === "alignment").length;
  return {state, tracks, canvases: canvases.length, reads: colors[READ_GRAY] || 0, top};
})()
""".replace("READ_GRAY", json.dumps("185,185,185"))


def test_igv_draws_the_reads_of_an_experiment(server: tuple[str, str, str], tmp_path: Path) -> None:
    chromium = tool("chromium", "chromium-browser", "google-chrome")
    base, key, system_id = server
    page = f"{base}/api/v1/experiments/igv/{system_id}?assembly=GRCh37&locus=chr1:100-600"
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + DEADLINE
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            assert process.poll() is None, "chromium exited"
            assert time.monotonic() < deadline, "chromium opened no DevTools port"
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as ws:
            result = view(DevTools(ws), page, key, tmp_path / "igv.png")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    state, requests, responses = result
    assert state["state"] == "ready", state
    assert state["tracks"] == 1, state
    assert state["reads"] > MIN_READ_PIXELS, state
    # Only the page request carried credentials; the file requests used signed links and
    # were answered with ranges; nothing left this server.
    elsewhere = [url for url in requests if not url.startswith((base, "data:", "blob:"))]
    assert elsewhere == []
    with_auth = [
        url for url, headers in requests.items() if "authorization" in map(str.lower, headers)
    ]
    assert with_auth == [page]
    streams = {url: status for url, status in responses.items() if "/stream/" in url}
    assert any("/experiments/stream/" in url and "token=" in url for url in streams)
    assert any("/assemblies/stream/" in url for url in streams)
    assert set(streams.values()) <= {200, 206}, streams
    assert 206 in streams.values()


def view(
    tools: DevTools, page: str, key: str, screenshot: Path
) -> tuple[dict[str, Any], dict[str, dict[str, str]], dict[str, int]]:
    """Open `page` with the API key on that request only; wait until igv.js has drawn
    the reads (or failed); keep a screenshot of what the browser showed."""
    target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    urls: dict[str, str] = {}  # request id -> URL
    sent: dict[str, dict[str, str]] = {}  # request id -> headers as sent
    responses: dict[str, int] = {}

    def on_event(message: dict[str, Any]) -> None:
        params = message.get("params", {})
        if message["method"] == "Fetch.requestPaused":
            request = params["request"]
            headers = [{"name": k, "value": v} for k, v in request["headers"].items()]
            headers.append({"name": "Authorization", "value": f"Token {key}"})
            tools.send(
                "Fetch.continueRequest",
                {"requestId": params["requestId"], "headers": headers},
                session,
            )
        elif message["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.requestWillBeSentExtraInfo":
            # The headers really sent (the Authorization added above appears only here).
            sent[params["requestId"]] = params["headers"]
        elif message["method"] == "Network.responseReceived":
            responses[params["response"]["url"]] = params["response"]["status"]

    tools.on_event = on_event
    tools.call("Network.enable", {}, session)
    tools.call("Page.enable", {}, session)
    tools.call(
        "Fetch.enable",
        {"patterns": [{"urlPattern": "*/experiments/igv/*", "requestStage": "Request"}]},
        session,
    )
    tools.call("Page.navigate", {"url": page}, session)
    deadline = time.monotonic() + DEADLINE
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        evaluated = tools.call(
            "Runtime.evaluate", {"expression": RENDERED_JS, "returnByValue": True}, session
        )
        state = evaluated["result"].get("value") or {}
        if state.get("state") == "error" or state.get("reads", 0) > MIN_READ_PIXELS:
            break
        time.sleep(0.25)
    shot = tools.call("Page.captureScreenshot", {"format": "png"}, session)
    state["screenshot"] = str(screenshot)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    requests = {url: sent.get(request_id, {}) for request_id, url in urls.items()}
    return state, requests, responses
