"""The committed web front end is what its sources build: ``web/src/api.d.ts`` is the
generated form of ``openapi/openapi.json``, the compiled modules in ``web/dist`` are
what ``tsc`` makes of ``web/src`` (so a type error against the API, or a dist that was
not rebuilt, fails here), and ``web/dist`` carries ``web/static`` unchanged.

Needs Node.js and npm; ``npm ci`` runs first when ``web/node_modules`` is missing.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
STATIC = WEB / "static"
BIN = WEB / "node_modules" / ".bin"


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, cwd=WEB, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(command)}` did not finish within {timeout:.0f} s", pytrace=False)


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """``web/node_modules/.bin``, installed from the lock file when missing."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail(
            "npm and node are needed to check the web front end: install Node.js 20 or later with npm",
            pytrace=False,
        )
    if not (BIN / "tsc").exists() or not (BIN / "openapi-typescript").exists():
        done = _run(["npm", "ci", "--no-audit", "--no-fund"], timeout=600)
        assert done.returncode == 0, f"npm ci failed in web/:\n{done.stdout}\n{done.stderr}"
    return BIN


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_api_types_are_generated_from_the_current_openapi_document(node_tools: Path, tmp_path: Path) -> None:
    generated = tmp_path / "api.d.ts"
    done = _run([str(node_tools / "openapi-typescript"), "../openapi/openapi.json", "-o", str(generated)], timeout=120)
    assert done.returncode == 0, f"openapi-typescript failed:\n{done.stdout}\n{done.stderr}"
    committed = WEB / "src" / "api.d.ts"
    assert committed.is_file(), "web/src/api.d.ts is missing: run `npm run build` in web/"
    assert generated.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        "web/src/api.d.ts does not match openapi/openapi.json: run `npm run build` in web/ and commit "
        "src/api.d.ts and dist/"
    )


def test_the_committed_modules_are_what_tsc_makes_of_the_sources(node_tools: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    done = _run([str(node_tools / "tsc"), "-p", "tsconfig.json", "--outDir", str(out)], timeout=180)
    assert done.returncode == 0, f"tsc reports errors in web/src:\n{done.stdout}\n{done.stderr}"
    built = _files(out)
    assert built, "tsc wrote no module"
    committed = {name for name in _files(DIST) if name.endswith(".js")} - _files(STATIC)
    assert committed == built, (
        f"web/dist has other modules than web/src makes (missing {sorted(built - committed)}, "
        f"extra {sorted(committed - built)}): run `npm run build` in web/"
    )
    stale = [name for name in sorted(built) if (out / name).read_bytes() != (DIST / name).read_bytes()]
    assert not stale, f"web/dist is stale for {stale}: run `npm run build` in web/"


def test_the_static_files_are_copied_unchanged() -> None:
    static = _files(STATIC)
    assert "index.html" in static
    missing = sorted(static - _files(DIST))
    assert not missing, f"web/dist lacks {missing}: run `npm run build` in web/"
    _, mismatch, errors = filecmp.cmpfiles(STATIC, DIST, sorted(static), shallow=False)
    assert not mismatch and not errors, f"web/dist differs from web/static in {mismatch + errors}: run `npm run build`"
    sources = {p.stem for p in (WEB / "src").glob("*.ts") if not p.name.endswith(".d.ts")}
    extra = sorted(n for n in _files(DIST) - static if not (n.endswith(".js") and n[:-3] in sources))
    assert not extra, f"web/dist holds files that no build step makes: {extra}"


def test_the_page_loads_nothing_from_elsewhere() -> None:
    """No CDN fonts or scripts: every reference in the shipped files stays on this origin."""
    for name in sorted(_files(DIST)):
        if name.endswith((".html", ".css", ".js")):
            text = (DIST / name).read_text(encoding="utf-8")
            for marker in ("http://", "https://", "//cdn", "@import"):
                assert marker not in text, f"web/dist/{name} refers to {marker!r}"
