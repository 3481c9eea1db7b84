"""`python -m ml_kernel -f CONNECTION_FILE` runs the kernel (what kernel.json says);
`python -m ml_kernel install [--user|--sys-prefix|--prefix P]` installs the kernelspec."""

import os
import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "install":
        from .install import main as install_main
        sys.exit(install_main(sys.argv[2:]))
    # ipykernel imports debugpy, whose start-up notice about frozen modules would otherwise
    # land in the terminal of `jupyter console`; this kernel has no debugger.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    from ipykernel.kernelapp import IPKernelApp

    from .kernel import MLKernel
    IPKernelApp.launch_instance(kernel_class=MLKernel)


if __name__ == "__main__":
    main()
