"""`uvicorn server.app:app` in a checkout; also the integration example's own commands, run
inside `server/`: `python app.py` and `uvicorn app:app --reload`. The app is `mlpy_server.app`'s."""

import os
import sys

if not __package__:  # imported as the top-level module `app` (cwd = server/) or run as a script
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mlpy_server.app import Settings, app, create_app  # noqa: E402

__all__ = ["app", "create_app", "Settings"]

if __name__ == "__main__":
    from mlpy_server.__main__ import main

    main()
