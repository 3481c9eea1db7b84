"""The ASGI app: `uvicorn server.app:app`.

Also works as the integration example's own commands, run inside `server/`:
`python app.py` and `uvicorn app:app --reload`."""

import os
import sys

if not __package__:  # imported as the top-level module `app` (cwd = server/) or run as a script
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from server.factory import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402

__all__ = ["app", "create_app", "Settings"]

app = create_app()

if __name__ == "__main__":
    from server.__main__ import main

    main(app="server.app:app")
