"""Tests of docs/check_pages.py, the headless-browser check of the built manual.

Each test writes a tiny site with one known fault and checks that the browser
check reports exactly that fault. They need Chromium and skip without it (CI
installs it, and ``make test`` runs the check on the real manual).
"""

from __future__ import annotations

import importlib.util
import struct
import sys
import zlib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_pages", ROOT / "docs" / "check_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_pages"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check_pages = _load()
CHROMIUM = check_pages.find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


def test_a_wrapped_directive_option_is_found(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text(
        "# Page\n\n```{figure} a.png\n:alt: a long description that goes on\n"
        "  over two lines\n:width: 640px\n\nCaption.\n```\n\n"
        "```{figure} b.png\n:alt: one line\n:width: 640px\n\n  Indented caption.\n```\n"
    )
    assert check_pages.source_problems(tmp_path) == [
        "page.md:5: the option above continues on this line; MyST shows it as text: keep each "
        "option on one line"
    ]


def _png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _site(tmp_path: Path, body: str) -> Path:
    (tmp_path / "ok.png").write_bytes(_png())
    (tmp_path / "other.html").write_text(
        '<html><body><h1 id="there">Other</h1><a href="index.html">back</a></body></html>'
    )
    (tmp_path / "index.html").write_text(
        f'<html><body><h1 id="top">Title</h1><img src="ok.png" alt="ok">'
        f'<a href="other.html#there">fine</a><pre>code may show \\(x\\) and :alt:</pre>'
        f"{body}</body></html>"
    )
    return tmp_path


def _problems(site: Path, tmp_path: Path) -> list[str]:
    shot = tmp_path / "shots" / "index.png"
    problems: list[str] = check_pages.check_site(site, CHROMIUM, shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
    return problems


@pytest.mark.slow
@needs_chromium
def test_a_clean_site_passes(tmp_path: Path) -> None:
    assert (
        _problems(_site(tmp_path, "<p>Plain text, $5 and a backslash-free page.</p>"), tmp_path)
        == []
    )


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (r"<p>the factor \(\omega_t\) grows</p>", "index.html: raw TeX '\\\\(' in the text"),
        (r"<p>$$\beta_2$$</p>", "index.html: raw TeX '$$' in the text"),
        (
            "<p>beta2 = 0.999 over 3000 iterations :width: 640px</p>",
            "index.html: directive text ':width:' in the page",
        ),
        ('<img src="missing.png" alt="gone">', "index.html: image did not load: missing.png"),
        ('<a href="nowhere.html">x</a>', "index.html: broken link to nowhere.html"),
        (
            '<a href="other.html#gone">x</a>',
            "index.html: broken link to other.html#gone (no such anchor)",
        ),
        (
            '<img src="https://example.org/a.png" alt="remote">',
            "index.html: request to the network: https://example.org/a.png",
        ),
    ],
)
def test_each_fault_is_reported(body: str, expected: str, tmp_path: Path) -> None:
    problems = _problems(_site(tmp_path, body), tmp_path)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.slow
@needs_chromium
def test_command_line_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "site").mkdir()
    site = _site(tmp_path / "site", "<p>\\(x\\)</p>")
    shot = tmp_path / "index.png"
    argv = [str(site), "--screenshot", str(shot), "--sources", str(tmp_path / "none")]
    assert check_pages.main(argv) == 1
    captured = capsys.readouterr()
    assert "index.html: raw TeX" in captured.err
    assert captured.out.startswith("check_pages: 2 pages in Chromium, 1 problem(s)")
    argv[0] = str(tmp_path / "empty")
    assert check_pages.main(argv) == 2
