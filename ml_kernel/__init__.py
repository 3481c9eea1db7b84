"""`ml`: a Jupyter kernel for the ML scripting language.

Cells run in one `mlpy` executor session, so variables, functions and imports persist across
cells. See `ml_kernel.kernel.MLKernel`, `python -m ml_kernel install --help` and docs/kernel.md.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
