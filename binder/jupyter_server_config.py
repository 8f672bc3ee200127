"""Serve the Explorer app next to JupyterLab on Binder through jupyter-server-proxy."""

import os

atlas = os.path.join(os.environ.get("REPO_DIR", os.getcwd()), "data", "demo-small-seed0.zarr")

c.ServerProxy.servers = {  # noqa: F821 - `c` is the config object Jupyter provides
    "atted-explore": {
        "command": [
            "panel", "serve", "notebooks/explorer.ipynb",
            "--port", "{port}",
            "--allow-websocket-origin", "*",
            "--prefix", "{base_url}atted-explore",
        ],
        "environment": {"ATTED_EXPLORE_ATLAS": atlas},
        "absolute_url": True,
        "timeout": 120,
        "launcher_entry": {"title": "ATTED Explorer"},
    }
}
