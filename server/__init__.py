"""mlpy's HTTP front door: a FastAPI app around one AsyncMLExecutor.

`server.app:app` for uvicorn, `create_app(settings)` for everything else."""

__version__ = "0.1.0"


def create_app(settings=None, **kwargs):
    from .factory import create_app as _create_app

    return _create_app(settings, **kwargs)
