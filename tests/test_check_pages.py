"""Tests of docs/check_pages.py, the headless-browser check of the built manual.

Each browser test writes a tiny site with one known fault and checks that the
browser check reports exactly that fault, and a clean site that it passes. They
need Chromium and skip without it (CI installs it, and ``make test`` runs the
check on the real manual); the maths tests also need the MathJax that the manual
ships (the ``sphinx-mathjax-offline`` package of the docs extra).
"""

from __future__ import annotations

import importlib.util
import json
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


def _mathjax() -> Path | None:
    """The MathJax 3 that the manual's build copies into ``_static/`` (None if absent)."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    script = Path(next(iter(spec.submodule_search_locations))) / "static/mathjax/tex-chtml.js"
    return script if script.is_file() else None


MATHJAX = _mathjax()
needs_mathjax = pytest.mark.skipif(MATHJAX is None, reason="sphinx-mathjax-offline is absent")
CSS = ROOT / "docs" / "_static" / "code-scroll.css"
LONG_LINE = "x = " + " + ".join(f"term_{i}" for i in range(40))


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


def _site(tmp_path: Path, body: str, head: str = "") -> Path:
    (tmp_path / "ok.png").write_bytes(_png())
    (tmp_path / "other.html").write_text(
        '<html><body><h1 id="there">Other</h1><a href="index.html">back</a></body></html>'
    )
    (tmp_path / "index.html").write_text(
        f'<html><head>{head}</head><body><h1 id="top">Title</h1><img src="ok.png" alt="ok">'
        f'<a href="other.html#there">fine</a><pre>code may show \\(x\\) and :alt:</pre>'
        f"{body}</body></html>"
    )
    return tmp_path


def _with_mathjax() -> str:
    """The ``<head>`` of a page whose maths MathJax typesets, configured as in the manual."""
    assert MATHJAX is not None
    config = {"options": {"processHtmlClass": "tex2jax_process|mathjax_process|math"}}
    return (
        f"<script>window.MathJax = {json.dumps(config)}</script>"
        f'<script defer src="{MATHJAX.as_uri()}"></script>'
    )


def _problems(site: Path, tmp_path: Path) -> list[str]:
    shots = tmp_path / "shots"
    problems: list[str] = check_pages.check_site(site, CHROMIUM, shots)
    for page in ("index", "other"):  # a screenshot of every page
        assert (shots / f"{page}.png").read_bytes().startswith(b"\x89PNG")
    return problems


def test_each_page_has_its_own_screenshot(tmp_path: Path) -> None:
    root, shots = tmp_path / "html", tmp_path / "shots"
    page = root / "_modules" / "pytorch_warmup" / "base.html"
    assert check_pages.screenshot_path(root, page, shots) == (
        shots / "_modules" / "pytorch_warmup" / "base.png"
    )
    assert check_pages.screenshot_path(root, root / "index.html", shots) == shots / "index.png"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"the factor \(\omega_t\) grows", "\\("),
        ("$$", "$$"),
        (r"uses ω_{last\_step+1}", "\\_"),
        (r"the \text{last step} of", "\\text"),
        (r"a factor \omega in (0, 1]", "\\omega"),
        (r"braces \{1, 2\}", "\\{"),
        ("the factor $t/2$ grows", "$t/2$"),
        ("$x$", "$x$"),
    ],
)
def test_tex_in_text_is_found(text: str, expected: str) -> None:
    assert check_pages._tex_in(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Plain text, $5 and a backslash-free page.",
        "from $5 to $10 a month",
        "a price of $ 3 $",
        "last_step + 1, omega_t and tau",
        "ω_t ∈ (0, 1] for t ≥ 1",
    ],
)
def test_prose_without_tex_passes(text: str) -> None:
    assert check_pages._tex_in(text) is None


@pytest.mark.slow
@needs_chromium
def test_a_clean_site_passes(tmp_path: Path) -> None:
    body = (
        "<p>Plain text, $5 and a backslash-free page; from $5 to $10.</p>"
        f'<div style="width: 300px"><pre>{LONG_LINE}</pre></div>'  # scrolls, with a scrollbar
        f'<pre style="width: 300px; white-space: pre-wrap">{LONG_LINE}</pre>'  # wraps
    )
    head = f'<link rel="stylesheet" href="{CSS.as_uri()}">'
    assert _problems(_site(tmp_path, body, head), tmp_path) == []


@pytest.mark.slow
@needs_chromium
@needs_mathjax
def test_typeset_maths_passes(tmp_path: Path) -> None:
    body = r'<p>the update uses <span class="math">\(\omega_{t+1} \in (0, 1]\)</span></p>'
    assert _problems(_site(tmp_path, body, _with_mathjax()), tmp_path) == []


@pytest.mark.slow
@needs_chromium
@needs_mathjax
def test_a_backslash_typeset_in_maths_is_reported(tmp_path: Path) -> None:
    # MathJax typesets \_ inside \text{} as a backslash and an underscore.
    body = r'<p>the next update uses <span class="math">\(\omega_{\text{last\_step}+1}\)</span></p>'
    problems = _problems(_site(tmp_path, body, _with_mathjax()), tmp_path)
    assert problems == [
        "index.html: raw TeX in typeset maths (a backslash is shown): "
        "'\\\\omega_{\\\\text{last\\\\_step}+1}'"
    ]


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (r"<p>the factor \(\omega_t\) grows</p>", "index.html: raw TeX '\\\\(' in the text"),
        (r"<p>$$\beta_2$$</p>", "index.html: raw TeX '$$' in the text"),
        (r"<p>uses ω_{last\_step+1}</p>", "index.html: raw TeX '\\\\_' in the text"),
        (r"<p>at \text{step} 3</p>", "index.html: raw TeX '\\\\text' in the text"),
        (r"<p>the factor \omega</p>", "index.html: raw TeX '\\\\omega' in the text"),
        ("<p>the factor $t/2$ grows</p>", "index.html: raw TeX '$t/2$' in the text"),
        (
            f'<pre style="width: 300px; overflow-x: hidden">{LONG_LINE}</pre>',
            "index.html: code block clipped: ",
        ),
        (
            f'<div style="width: 300px; overflow: hidden"><pre>{LONG_LINE}</pre></div>',
            "index.html: code block clipped: ",
        ),
        (
            f'<pre style="width: 300px; overflow-x: visible">{LONG_LINE}</pre>',
            "index.html: code block clipped: ",
        ),
        (  # scrollable, but an overlay scrollbar that shows only while scrolling
            f'<pre style="width: 300px; overflow-x: auto">{LONG_LINE}</pre>',
            "index.html: code block clipped: ",
        ),
        (
            '<code style="display: block; width: 300px; overflow-x: hidden; '
            f'white-space: pre">{LONG_LINE}</code>',
            "index.html: code block clipped: ",
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
@pytest.mark.parametrize(
    ("style", "why"),
    [
        ("overflow-x: hidden", "cut off (overflow-x: hidden)"),
        ("overflow-x: clip", "cut off (overflow-x: clip)"),
        ("overflow-x: visible", "spilling out of its box"),
        ("overflow-x: auto", "scrollable but no scrollbar is drawn"),
        ("overflow-x: scroll", "scrollable but no scrollbar is drawn"),
    ],
)
def test_a_clipped_code_block_says_why(style: str, why: str, tmp_path: Path) -> None:
    body = f'<pre style="width: 300px; {style}">{LONG_LINE}</pre>'
    problems = _problems(_site(tmp_path, body), tmp_path)
    assert len(problems) == 1, problems
    assert problems[0].startswith("index.html: code block clipped: "), problems
    assert f" px, {why}: " in problems[0], problems
    assert problems[0].endswith(f'"{LONG_LINE[:60]}"'), problems


@pytest.mark.slow
@needs_chromium
def test_command_line_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "site").mkdir()
    site = _site(tmp_path / "site", "<p>\\(x\\)</p>")
    shots = tmp_path / "shots"
    argv = [str(site), "--screenshots", str(shots), "--sources", str(tmp_path / "none")]
    assert check_pages.main(argv) == 1
    captured = capsys.readouterr()
    assert "index.html: raw TeX" in captured.err
    assert captured.out.startswith("check_pages: 2 pages in Chromium, 1 problem(s)")
    assert sorted(p.name for p in shots.iterdir()) == ["index.png", "other.png"]
    argv[0] = str(tmp_path / "empty")
    assert check_pages.main(argv) == 2
