"""`ml`: a Jupyter kernel for the ML scripting language.

Cells run in one `mlpy` executor session, so variables, functions and imports persist across
cells. See `ml_kernel.kernel.MLKernel`, `python -m ml_kernel install --help` and docs/kernel.md.
"""

from mlpy import __version__ as __version__  # one version for the distribution (pyproject reads mlpy's)

__all__ = ["__version__"]
