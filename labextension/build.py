"""Build the JupyterLab extension (ML highlighting, MIME type, .ml file type) into
share/jupyter/labextensions/mlpy-jupyterlab, which the wheel ships (hatch shared-data), so
users need no Node.

    python labextension/build.py            # npm ci (when needed), then the build

Needs Node >= 18, npm and JupyterLab 4 (its staging folder gives the core package versions).
Records a hash of the sources in the bundle's build-sources.json;
tests/kernel/test_labextension.py fails when the committed bundle is older than its sources.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUTPUT = REPO / "share" / "jupyter" / "labextensions" / "mlpy-jupyterlab"
SOURCES = ["package.json", "package-lock.json", "src/*.js"]
RECORD = "build-sources.json"


def sources_hash(root: Path = HERE) -> str:
    """sha256 over the extension's sources (names and contents, in a fixed order)."""
    digest = hashlib.sha256()
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def main() -> int:
    npm = shutil.which("npm")
    if npm is None:
        print("npm is needed to build the extension", file=sys.stderr)
        return 1
    if not (HERE / "node_modules" / ".bin" / "build-labextension").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    import jupyterlab
    core = Path(jupyterlab.__file__).parent / "staging"
    shutil.rmtree(OUTPUT, ignore_errors=True)
    subprocess.run([str(HERE / "node_modules" / ".bin" / "build-labextension"),
                    "--core-path", str(core), "."], cwd=HERE, check=True)
    (OUTPUT / "install.json").write_text(json.dumps({
        "packageManager": "python", "packageName": "mlpy-lang",
        "uninstallInstructions": "pip uninstall mlpy-lang"}, indent=1) + "\n")
    (OUTPUT / RECORD).write_text(json.dumps({"sources_sha256": sources_hash()}, indent=1)
                                 + "\n")
    print(f"built {OUTPUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
