"""`python -m ml_kernel install [--user | --sys-prefix | --prefix P]`: register the kernelspec.

`pip install mlpy-lang` already ships the kernelspec as data (share/jupyter/kernels/ml); this
command is for a Jupyter that lives in another environment or prefix. The kernelspec is
taken from the repository's kernelspec/ml/ when running from a source tree, else from the
installed share/jupyter/kernels/ml, else written from the defaults below (without logos).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

KERNEL_NAME = "ml"
KERNEL_JSON = {
    "argv": ["python", "-m", "ml_kernel", "-f", "{connection_file}"],
    "display_name": "ML",
    "language": "ml",
    "interrupt_mode": "message",
    "metadata": {"debugger": False},
}


def spec_source() -> Path | None:
    """Where a complete kernelspec folder (kernel.json + logos) can be copied from."""
    candidates = [Path(__file__).resolve().parent.parent / "kernelspec" / KERNEL_NAME]
    for prefix in {sys.prefix, sysconfig.get_path("data")}:
        candidates.append(Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME)
    for folder in candidates:
        if (folder / "kernel.json").is_file():
            return folder
    return None


def install(user: bool = False, prefix: str | None = None, sys_prefix: bool = False,
            python: str | None = None) -> str:
    """Install the `ml` kernelspec; returns the folder it was installed to."""
    from jupyter_client.kernelspec import KernelSpecManager

    if sys_prefix:
        prefix = sys.prefix
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / KERNEL_NAME
        source = spec_source()
        if source is not None:
            shutil.copytree(source, staged)
        else:
            staged.mkdir()
            (staged / "kernel.json").write_text(json.dumps(KERNEL_JSON, indent=2) + "\n")
        if python:
            spec = json.loads((staged / "kernel.json").read_text())
            spec["argv"][0] = python
            (staged / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
        return KernelSpecManager().install_kernel_spec(
            str(staged), KERNEL_NAME, user=user, prefix=prefix)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml_kernel install",
        description="Install the ML kernelspec so Jupyter lists the 'ml' kernel.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true",
                       help="install for the current user (~/.local/share/jupyter)")
    where.add_argument("--sys-prefix", action="store_true",
                       help=f"install into this Python's prefix ({sys.prefix})")
    where.add_argument("--prefix", metavar="P",
                       help="install into P/share/jupyter/kernels (e.g. another environment)")
    parser.add_argument("--python", metavar="EXE", default=sys.executable,
                        help="the Python that runs the kernel (default: this one, "
                             f"{sys.executable}, so a Jupyter in another environment starts "
                             "the kernel where mlpy is installed)")
    args = parser.parse_args(argv)
    if not (args.user or args.sys_prefix or args.prefix):
        args.user = True          # like ipykernel's installer: per-user unless told otherwise
    path = install(user=args.user, prefix=args.prefix, sys_prefix=args.sys_prefix,
                   python=args.python)
    print(f"Installed the ML kernelspec in {path}")
    return 0
