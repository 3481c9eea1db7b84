"""Round trip of a trivial cell on the `ml` kernel against ipykernel's own python3 kernel.

Both kernels are started in this run; each gets warm-up cells, then N executions of a
trivial cell (`1 + 1`) measured from sending execute_request to receiving the idle status
that ends it (so the reply and the execute_result are both in). Prints each kernel's median
and the ratio ml / python3 (target: <= 1.2).

    python bench/kernel.py [--n 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "kernel"))

from ml_kernel_testenv import setup_kernelspec  # noqa: E402


def round_trips(kernel_name: str, code: str, n: int, warmup: int = 20) -> list[float]:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=kernel_name)
    try:
        times = []
        for i in range(warmup + n):
            started = time.perf_counter()
            msg_id = kc.execute(code)
            while True:
                msg = kc.get_iopub_msg(timeout=30)
                if (msg["parent_header"].get("msg_id") == msg_id
                        and msg["msg_type"] == "status"
                        and msg["content"]["execution_state"] == "idle"):
                    break
            kc.get_shell_msg(timeout=30)
            if i >= warmup:
                times.append(time.perf_counter() - started)
        return times
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="measured cells per kernel")
    args = parser.parse_args()
    setup_kernelspec()
    os.environ.pop("ML_KERNEL_TIMEOUT", None)
    python = round_trips("python3", "1 + 1", args.n)
    ml = round_trips("ml", "1 + 1", args.n)
    py_median, ml_median = statistics.median(python), statistics.median(ml)
    print(f"python3 kernel: median {py_median * 1000:.2f} ms over {args.n} cells")
    print(f"ml kernel:      median {ml_median * 1000:.2f} ms over {args.n} cells")
    print(f"ratio ml / python3: {ml_median / py_median:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
