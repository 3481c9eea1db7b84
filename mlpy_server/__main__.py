"""`python -m mlpy_server` / `mlpy-server`: run the app with uvicorn (127.0.0.1:8000 by default)."""

from __future__ import annotations

import argparse
import math


def main(argv: list[str] | None = None, *, app: str = "mlpy_server.app:app") -> None:
    import uvicorn

    from mlpy_server.logs import install_record_factory, uvicorn_log_config
    from mlpy_server.settings import Settings

    settings = Settings()
    parser = argparse.ArgumentParser(prog="mlpy-server",
                                     description="Serve ML code execution over HTTP.")
    parser.add_argument("--host", default=settings.host, help="default %(default)s")
    parser.add_argument("--port", type=int, default=settings.port, help="default %(default)s")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes (each with its own executor); default 1")
    parser.add_argument("--reload", action="store_true", help="restart on code changes")
    parser.add_argument("--log-level", default=settings.log_level)
    args = parser.parse_args(argv)
    if args.reload and args.workers > 1:
        parser.error("--reload and --workers > 1 cannot be combined")
    install_record_factory()
    from mlpy_server.protocol import HeaderTimeoutProtocol

    uvicorn.run(app, host=args.host, port=args.port, workers=args.workers, reload=args.reload,
                http=HeaderTimeoutProtocol,
                log_config=uvicorn_log_config(args.log_level), log_level=args.log_level,
                access_log=False,
                timeout_graceful_shutdown=math.ceil(settings.graceful_shutdown_timeout) + 1)


if __name__ == "__main__":
    main()
