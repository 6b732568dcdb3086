"""The README's examples marked ``<!-- run -->`` run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"<!-- run -->\s*```python\n(.*?)```", re.DOTALL)


def test_readme_examples_run() -> None:
    blocks = BLOCK.findall(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    torch.manual_seed(0)
    namespace: dict[str, object] = {"__name__": "readme"}
    for code in blocks:
        exec(compile(code, str(README), "exec"), namespace)
