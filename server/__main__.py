"""`python -m server` in a checkout: the same as `mlpy-server` / `python -m mlpy_server`."""

from mlpy_server.__main__ import main

if __name__ == "__main__":
    main()
