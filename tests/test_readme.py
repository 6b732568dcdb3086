"""The README's examples marked ``<!-- run -->`` run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"<!-- run -->\s*```python\n(.*?)```", re.DOTALL)


def test_readme_examples_run(tmp_path: Path) -> None:
    blocks = BLOCK.findall(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    torch.manual_seed(0)
    namespace: dict[str, object] = {"__name__": "readme"}
    for i, code in enumerate(blocks):
        # a real file per block: torch.compile reads the source of what it compiles
        path = tmp_path / f"readme_block_{i}.py"
        path.write_text(code, encoding="utf-8")
        exec(compile(code, str(path), "exec"), namespace)
