"""mlpy's HTTP front door: a FastAPI app around one AsyncMLExecutor.

`mlpy_server.app:app` for uvicorn (`server.app:app` in a checkout), `create_app(settings)`
for everything else."""

from mlpy import __version__ as __version__  # one version for the distribution (pyproject reads mlpy's)


def create_app(settings=None, **kwargs):
    from .factory import create_app as _create_app

    return _create_app(settings, **kwargs)
