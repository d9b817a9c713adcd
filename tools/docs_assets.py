"""Fetch the pinned copies of Swagger UI and Scalar that ``/docs`` and ``/docs/scalar``
serve, from the npm registry, and write them to ``service/api/docs_assets/vendor``.

    uv run --group dev python tools/docs_assets.py          # fetch what PINNED names
    uv run --group dev python tools/docs_assets.py --check  # the committed files are those

The service never fetches anything: the copies are committed, like the built front end,
so that the docs work offline and behind networks that cannot reach a public CDN. Each
package's tarball is checked against the registry's sha512 integrity, recorded here when
a version is raised; ``vendor/ASSETS.json`` records every file's sha256 for the test.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "service" / "api" / "docs_assets" / "vendor"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Pin:
    version: str
    integrity: str
    """The registry's integrity for the tarball (``npm view NAME@VERSION dist.integrity``)."""
    license: str
    files: dict[str, str]
    """Which files of the tarball are kept, under which name."""


PINNED = {
    "swagger-ui-dist": Pin(
        version="5.35.0",
        integrity="sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        license="Apache-2.0",
        files={
            "package/swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "package/swagger-ui.css": "swagger-ui.css",
            "package/LICENSE": "swagger-ui.LICENSE",
            "package/NOTICE": "swagger-ui.NOTICE",
        },
    ),
    "@scalar/api-reference": Pin(
        version="1.76.4",
        integrity="sha512-bHSVv494yuNTcBzmfZR3eYhckOTiu3L6IJmvM2kdKzBVmWqm+JhEHbYc7ydsv7FBSs3vTW9sCz00La2dFgWxVg==",
        license="MIT",
        files={
            "package/dist/browser/standalone.js": "scalar-standalone.js",
            "package/package.json": "scalar.package.json",  # MIT; the tarball has no LICENSE file
        },
    ),
}


def _tarball(name: str, version: str) -> str:
    return f"{REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def _fetch(name: str, pin: Pin) -> dict[str, bytes]:
    url = _tarball(name, pin.version)
    with urllib.request.urlopen(url, timeout=120) as answer:  # noqa: S310 (a fixed https URL)
        packed = answer.read()
    algorithm, expected = pin.integrity.split("-", 1)
    if base64.b64encode(hashlib.new(algorithm, packed).digest()).decode() != expected:
        raise SystemExit(f"{url} does not match its pinned integrity")
    wanted = pin.files
    kept: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as archive:
        for member in archive.getmembers():
            if member.name in wanted and member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                kept[wanted[member.name]] = extracted.read()
    missing = set(wanted.values()) - set(kept)
    if missing:
        raise SystemExit(f"{name}@{pin.version} has no {sorted(missing)}")
    return kept


def manifest() -> dict[str, object]:
    return json.loads((VENDOR / "ASSETS.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check the committed files against ASSETS.json")
    check = parser.parse_args().check
    if check:
        recorded = manifest()["files"]
        assert isinstance(recorded, dict)
        wrong = [n for n, digest in recorded.items() if hashlib.sha256((VENDOR / n).read_bytes()).hexdigest() != digest]
        print("the committed copies are those recorded" if not wrong else f"differ: {wrong}")
        sys.exit(1 if wrong else 0)
    VENDOR.mkdir(parents=True, exist_ok=True)
    for stale in VENDOR.iterdir():
        stale.unlink()
    files: dict[str, str] = {}
    packages: dict[str, object] = {}
    for name, pin in PINNED.items():
        for kept_name, content in _fetch(name, pin).items():
            (VENDOR / kept_name).write_bytes(content)
            files[kept_name] = hashlib.sha256(content).hexdigest()
        packages[name] = {
            "version": pin.version,
            "tarball": _tarball(name, pin.version),
            "integrity": pin.integrity,
            "license": pin.license,
        }
        print(f"{name}@{pin.version}: {', '.join(pin.files.values())}")
    record = {"packages": packages, "files": dict(sorted(files.items()))}
    (VENDOR / "ASSETS.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
