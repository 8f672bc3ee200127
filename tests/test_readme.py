"""The README's notebook example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs():
    text = README.read_text()
    head = "\n".join(text.splitlines()[:10])
    assert "make demo" in head and "make test" in head
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(example, str(README), "exec"), namespace)
    assert namespace["ae"].function_score(namespace["node"]) > 1.0  # far above random (~0.5)
