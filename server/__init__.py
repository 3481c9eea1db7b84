"""The checkout's alias of `mlpy_server`, so the seed's commands keep working in a checkout.

The installed package is `mlpy_server`: a top-level `server` package collides with other
distributions that ship one (see docs/server.md). This folder is not in the wheel; it keeps
`python -m server`, `uvicorn server.app:app`, and `python app.py` / `uvicorn app:app` run inside
`server/` (the integration example's commands) working in the checkout."""

from mlpy_server import __version__ as __version__
from mlpy_server import create_app as create_app
