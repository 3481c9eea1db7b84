"""`python -m ml_kernel install [--user | --sys-prefix | --prefix P] [--name N] [--display-name D]
[--capabilities CAPS] [--env K=V ...]`: register the kernelspec.

`pip install mlpy-lang` already ships the kernelspec as data (share/jupyter/kernels/ml); this
command is for a Jupyter that lives in another environment or prefix. The kernelspec is
taken from the repository's kernelspec/ml/ when running from a source tree, else from the
installed share/jupyter/kernels/ml, else written from the defaults below (without logos).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

KERNEL_NAME = "ml"
CAPABILITIES_ENV = "ML_KERNEL_CAPABILITIES"      # (kernel.py reads it; not imported: no ipykernel)
KERNEL_JSON = {
    "argv": ["python", "-m", "ml_kernel", "-f", "{connection_file}"],
    "display_name": "ML",
    "language": "ml",
    "interrupt_mode": "message",
    "metadata": {"debugger": False},
}


def _kernel_name(text: str) -> str:
    """--name: what Jupyter accepts as a kernelspec name."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", text):
        raise argparse.ArgumentTypeError(f"not a kernel name (letters, digits, . _ -): {text!r}")
    return text.lower()


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
            python: str | None = None, name: str = KERNEL_NAME,
            display_name: str | None = None, capabilities: str | None = None,
            env: dict[str, str] | None = None) -> str:
    """Install the kernelspec as `name`; returns the folder it was installed to.
    `capabilities` (comma-separated) become the kernel's grants (ML_KERNEL_CAPABILITIES in
    the kernelspec's env); `env` adds variables to the kernel's environment."""
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
        spec = json.loads((staged / "kernel.json").read_text())
        if python:
            spec["argv"][0] = python
        if display_name:
            spec["display_name"] = display_name
        variables = dict(spec.get("env") or {})
        variables.update(env or {})
        if capabilities is not None:
            variables[CAPABILITIES_ENV] = capabilities
        if variables:
            spec["env"] = variables
        (staged / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
        return KernelSpecManager().install_kernel_spec(
            str(staged), name, user=user, prefix=prefix)


def _capabilities(text: str) -> str:
    """--capabilities: names of the capability vocabulary, comma-separated (or `all`)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no capability named")
    for n in names:
        if not re.fullmatch(r"all|[a-z]+(\.[a-z*]+)*", n):
            raise argparse.ArgumentTypeError(f"not a capability name: {n!r}")
    return ",".join(names)


def _variable(text: str) -> tuple[str, str]:
    """--env K=V."""
    key, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, value


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
    parser.add_argument("--name", default=KERNEL_NAME, type=_kernel_name,
                        help=f"the kernelspec's name (default: {KERNEL_NAME})")
    parser.add_argument("--display-name", metavar="TEXT",
                        help="the name Jupyter shows (default: ML)")
    parser.add_argument("--capabilities", metavar="CAPS", type=_capabilities,
                        help="capabilities granted to programs, comma-separated, e.g. "
                             "file.read,path.read (or all); %%capabilities shows them")
    parser.add_argument("--env", metavar="K=V", action="append", type=_variable, default=[],
                        help="a variable of the kernel's environment (repeatable)")
    args = parser.parse_args(argv)
    if not (args.user or args.sys_prefix or args.prefix):
        args.user = True          # like ipykernel's installer: per-user unless told otherwise
    path = install(user=args.user, prefix=args.prefix, sys_prefix=args.sys_prefix,
                   python=args.python, name=args.name, display_name=args.display_name,
                   capabilities=args.capabilities, env=dict(args.env))
    print(f"Installed the ML kernelspec in {path}")
    return 0
