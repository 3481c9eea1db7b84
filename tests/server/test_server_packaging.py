"""What the wheel installs (issue 16): the top-level packages `mlpy`, `mlpy_server` and
`ml_kernel` only — no `server/`, a name other distributions' wheels also install — and the
installed server starts from its own package, away from the checkout."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(folder)],
                   cwd=ROOT, check=True, capture_output=True)
    (built,) = folder.glob("*.whl")
    return built


def test_the_wheel_installs_three_top_level_packages(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"mlpy", "mlpy_server", "ml_kernel"}
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "mlpy-server = mlpy_server.__main__:main" in text


def test_the_installed_package_serves_without_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    probe = "\n".join([
        "import sys, mlpy, mlpy_server.app",
        "from fastapi.testclient import TestClient",
        "with TestClient(mlpy_server.app.app, base_url='http://localhost') as client:",
        "    reply = client.post('/execute', json={'code': 'result = 2 + 2;'}).json()",
        "print(reply['value'], mlpy_server.app.__file__.startswith(sys.argv[1]),",
        "      mlpy.__file__.startswith(sys.argv[1]))",
    ])
    env = dict(os.environ, PYTHONPATH=str(target), MLPY_ISOLATION="thread", MLPY_SESSION_STORE="memory")
    out = subprocess.run([sys.executable, "-c", probe, str(target)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["4", "True", "True"]
    assert not (target / "server").exists()
