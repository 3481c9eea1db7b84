"""/docs and /redoc load Swagger UI and ReDoc from this server (the fastapi-offline package),
never from a CDN, even with API keys configured; a policy keeps the pages to this server.
(tests/browser/test_server_docs.py renders them in Chromium with the network blocked.)"""

from __future__ import annotations

import re


def test_docs_pages_load_their_files_from_this_server(start_server):
    server = start_server(env={"MLPY_API_KEYS": "docs-key", "MLPY_ISOLATION": "thread"})
    with server.client() as c:
        for page in ("/docs", "/redoc"):
            r = c.get(page)
            assert r.status_code == 200
            urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
            assert urls and all(u.startswith("/docs/assets/") for u in urls), urls
            assert "http" not in r.text.replace("http-equiv", "")
            policy = r.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "connect-src 'self'" in policy
            for url in urls:        # public like the pages: no API key needed
                asset = c.get(url)
                assert asset.status_code == 200 and len(asset.content) > 1000, url
        assert c.get("/docs/assets/nothing.js").status_code == 404
        assert c.get("/execute").status_code == 401       # the API itself still needs the key
