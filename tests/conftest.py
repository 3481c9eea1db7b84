"""Root conftest: its folder (tests/) goes on sys.path, so every package can import `mltest`."""
