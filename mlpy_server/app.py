"""The ASGI app: `uvicorn mlpy_server.app:app` (`uvicorn server.app:app` in a checkout)."""

from mlpy_server.factory import create_app
from mlpy_server.settings import Settings

__all__ = ["app", "create_app", "Settings"]

app = create_app()

if __name__ == "__main__":
    from mlpy_server.__main__ import main

    main()
