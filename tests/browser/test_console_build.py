"""The committed staff console is what its sources build: ``console/src/api.d.ts`` is the
generated form of ``openapi/openapi.json``, ``vue-tsc`` finds no type error in the
screens against it (so an API change that breaks a screen fails here), and
``console/dist`` is byte for byte what ``vite build`` makes (so a dist that was not
rebuilt fails here). Needs Node.js and npm; ``npm ci`` runs first when
``console/node_modules`` is missing.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
DIST = CONSOLE / "dist"
BIN = CONSOLE / "node_modules" / ".bin"


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, cwd=CONSOLE, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(command)}` did not finish within {timeout:.0f} s", pytrace=False)


@pytest.fixture(scope="module")
def node_tools() -> Path:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("npm and node are needed to check the staff console: install Node.js 20 or later", pytrace=False)
    if not all((BIN / tool).exists() for tool in ("vite", "vue-tsc", "openapi-typescript")):
        done = _run(["npm", "ci", "--no-audit", "--no-fund"], timeout=600)
        assert done.returncode == 0, f"npm ci failed in console/:\n{done.stdout}\n{done.stderr}"
    return BIN


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_console_api_types_are_generated_from_the_current_openapi_document(
    node_tools: Path, tmp_path: Path
) -> None:
    generated = tmp_path / "api.d.ts"
    done = _run([str(node_tools / "openapi-typescript"), "../openapi/openapi.json", "-o", str(generated)], timeout=120)
    assert done.returncode == 0, f"openapi-typescript failed:\n{done.stdout}\n{done.stderr}"
    committed = CONSOLE / "src" / "api.d.ts"
    assert generated.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        "console/src/api.d.ts does not match openapi/openapi.json: run `npm run build` in console/ and commit "
        "src/api.d.ts and dist/"
    )


def test_the_screens_type_check_against_the_api(node_tools: Path) -> None:
    done = _run([str(node_tools / "vue-tsc"), "--noEmit", "-p", "tsconfig.json"], timeout=300)
    assert done.returncode == 0, f"vue-tsc reports errors in console/src:\n{done.stdout}\n{done.stderr}"


def test_the_committed_build_is_what_vite_makes_of_the_sources(node_tools: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    done = _run(
        [str(node_tools / "vite"), "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "error"], timeout=300
    )
    assert done.returncode == 0, f"vite build failed:\n{done.stdout}\n{done.stderr}"
    built, committed = _files(out), _files(DIST)
    assert built == committed, (
        f"console/dist differs from a fresh build (missing {sorted(built - committed)}, "
        f"extra {sorted(committed - built)}): run `npm run build` in console/ and commit dist/"
    )
    _, mismatch, errors = filecmp.cmpfiles(out, DIST, sorted(built), shallow=False)
    assert not mismatch and not errors, (
        f"console/dist is stale for {mismatch + errors}: run `npm run build` in console/"
    )


def test_the_console_loads_nothing_from_elsewhere() -> None:
    """No CDN fonts, scripts or map tiles: every reference in the shipped files stays on this origin."""
    for name in sorted(_files(DIST)):
        if name.endswith((".html", ".css")):
            # An inline SVG icon names its XML namespace with an http address; nothing is fetched.
            text = (DIST / name).read_text(encoding="utf-8").replace("http://www.w3.org/2000/svg", "")
            for marker in ("http://", "https://", "//cdn", "@import"):
                assert marker not in text, f"console/dist/{name} refers to {marker!r}"
        if name.endswith(".js"):
            text = (DIST / name).read_text(encoding="utf-8")
            # Libraries carry documentation links in strings; what matters is that no
            # script, style or data is fetched from another origin, whatever the quotes.
            fetched = re.search(
                r"""(?:import|fetch|importScripts)\(\s*[`'"](?:https?:)?//|url\(\s*[`'"]?https?:""", text
            )
            assert fetched is None, f"console/dist/{name} fetches from elsewhere: {fetched.group(0) if fetched else ''}"


def test_the_console_page_runs_no_inline_script() -> None:
    """The policy is ``script-src 'self'``: every script of the page is a file of its own."""
    page = (DIST / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None, "console/dist/index.html has an inline script"
    assert re.search(r"\son[a-z]+\s*=", page, re.I) is None, "console/dist/index.html has an inline event handler"
