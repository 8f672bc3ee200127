"""Serve the Explorer app next to JupyterLab on Binder through jupyter-server-proxy.

The Jupyter server is the only way in: it authenticates the user and checks the
browser's origin, then proxies to a Panel server that listens on 127.0.0.1 only.
That Panel server allows one websocket origin, its own loopback address, which
the proxy presents on every request (``request_headers_override``); no ``*``.
``{port}`` and ``{base_url}`` are filled in by jupyter-server-proxy.
"""

import os

atlas = os.path.join(os.environ.get("REPO_DIR", os.getcwd()), "data", "demo-small-seed0.zarr")

c.ServerProxy.servers = {  # noqa: F821 - `c` is the config object Jupyter provides
    "atted-explore": {
        "command": [
            "panel", "serve", "notebooks/explorer.ipynb",
            "--address", "127.0.0.1",
            "--port", "{port}",
            "--allow-websocket-origin", "127.0.0.1:{port}",
            "--prefix", "{base_url}atted-explore",
        ],
        "request_headers_override": {"Origin": "http://127.0.0.1:{port}"},
        # small objects from the C library's malloc: the memory of closed sessions goes back to the system
        "environment": {"ATTED_EXPLORE_ATLAS": atlas, "PYTHONMALLOC": "malloc"},
        "absolute_url": True,
        "timeout": 120,
        "launcher_entry": {"title": "ATTED Explorer"},
    }
}
