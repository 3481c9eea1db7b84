"""kernel_info's help_links (JupyterLab's Help menu) point at the ML docs: the project URLs of
pyproject.toml, read from the installed `mlpy-lang` metadata, else from the checkout."""

from __future__ import annotations

import os
import tomllib

import pytest
from jupyter_client.manager import start_new_kernel

from ml_kernel_testenv import REPO, setup_kernelspec

setup_kernelspec()

pytestmark = pytest.mark.timeout(120)


def help_links(env: dict | None = None) -> list[dict]:
    km, kc = start_new_kernel(kernel_name="ml", **({"env": env} if env else {}))
    try:
        kc.kernel_info()
        reply = kc.get_shell_msg(timeout=30)
        assert reply["msg_type"] == "kernel_info_reply"
        return reply["content"]["help_links"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def project_urls() -> dict[str, str]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]


def test_help_links_are_the_project_urls_of_the_docs():
    urls = project_urls()
    links = help_links()
    assert links == [{"text": label, "url": url} for label, url in urls.items()
                     if label != "Source"]
    texts = {link["text"] for link in links}
    assert {"ML language reference", "ML library modules", "ML kernel"} <= texts
    assert not any("jupyter.org" in link["url"] for link in links)


def test_installed_metadata_is_read(tmp_path):
    """An installed distribution's Project-URL lines are what the kernel shows (a dist-info
    as pip writes it, found first on the kernel's path)."""
    info = tmp_path / "mlpy_lang-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: mlpy-lang\nVersion: 0.0.1\n"
        "Project-URL: ML language reference, https://docs.invalid/ml/language\n"
        "Project-URL: ML library modules, https://docs.invalid/ml/library#modules\n"
        "Project-URL: Source, https://code.invalid/mlpy\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    assert help_links(env) == [
        {"text": "ML language reference", "url": "https://docs.invalid/ml/language"},
        {"text": "ML library modules", "url": "https://docs.invalid/ml/library#modules"}]
