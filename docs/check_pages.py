r"""Open every page of the built manual in headless Chromium and check what a reader sees.

Usage::

    python docs/check_pages.py [BUILD_DIR] [--screenshots DIR] [--chromium PATH]

For each HTML page under ``BUILD_DIR`` (default ``docs/_build/html``) the page is
loaded from disk in a real browser, MathJax is given time to typeset, and the
rendered page is checked for:

* TeX left in the visible text: maths delimiters (``\(``, ``\[``, ``$$``, an
  inline ``$x$``), a TeX command (``\beta``, ``\text`` ...) or an escaped
  character (``\_``, ``\{`` ...); a backslash that MathJax typeset as part of
  a formula (``\text{last\_step}`` shows ``last\_step``); a maths element
  that MathJax did not typeset or typeset with an error;
* a code block whose content is wider than its box and that shows no
  scrollbar: cut off (``overflow-x: hidden``), spilling out of its box, or
  scrollable without a visible scrollbar. The pages are laid out as on a
  phone or a Mac, where a scrollbar that is not styled is an overlay that
  stays invisible until the reader scrolls: a wide block passes only with a
  scrollbar that is always drawn;
* directive text that leaked into the page (``:alt:``, ``:width:``,
  ````` ```{figure} ````` ...);
* an image that did not load, or a web font that failed;
* a link inside the manual to a missing page or a missing anchor;
* any request that leaves the machine (the manual must work offline; the
  browser is started with every host name unresolvable).

Before that, the Markdown sources (``--sources``, default ``docs``) are read for
the mistake behind the figures that once showed stray text: a MyST directive
option (``:alt:``) continued on a second line, which MyST takes for the
caption, so the option and what follows it appear in the page.

A full-page screenshot of every page, 1280 pixels wide, is saved under
``--screenshots`` (default ``docs/_build/screenshots``), at the page's path
with ``.png`` for ``.html`` (``index.png``, ``attached.png``,
``_modules/pytorch_warmup/base.png`` ...). The exit status is 0 when every
page passes, 1 with one line per problem otherwise, 2 when there is no build
to check and 3 when Chromium cannot be found. The browser is driven over the
DevTools protocol on a pipe, so the script needs only the standard library.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import math
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlparse

_MOST_PER_PAGE = 8
"""Problems listed per page; the rest are counted."""

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Evaluated in each page once it has loaded: waits for MathJax's first typesetting,
# then reports what the reader sees. Text inside code, scripts and MathJax's own
# output is left out of `texts`: only prose, headings, tables and captions are
# searched there. The typeset maths is read back as MathML, whose token elements
# (<mi>, <mo>, <mtext> ...) hold the characters the reader sees in each formula.
_REPORT_JS = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;
  const hidden = (el) => {
    const style = getComputedStyle(el);
    return style.display === "none" || style.visibility === "hidden";
  };
  const skip = "pre, code, script, style, textarea, mjx-container, .highlight, kbd, samp";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip) || hidden(parent)) continue;
    if (node.textContent.trim()) texts.push(node.textContent);
  }
  const typesetBackslashes = [];
  if (window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.toMML) {
    for (const item of MathJax.startup.document.math) {
      const tokens = MathJax.startup.toMML(item.root).match(/>[^<]*</g) || [];
      if (tokens.some((t) => t.includes("\\"))) typesetBackslashes.push(item.math);
    }
  }
  // A code block wider than its box passes only if the box (or the first ancestor
  // that does not let it overflow) scrolls and draws a scrollbar that takes room.
  const clipped = [];
  for (const block of document.querySelectorAll("pre, code")) {
    const style = getComputedStyle(block);
    if (style.display === "inline" || hidden(block) || block.parentElement.closest("pre")) {
      continue;
    }
    if (block.scrollWidth <= block.clientWidth + 1) continue;
    let box = block;
    while (box && getComputedStyle(box).overflowX === "visible") box = box.parentElement;
    const first = block.textContent.trim().split("\n")[0].slice(0, 60);
    const sizes = `${block.scrollWidth} px of content in ${block.clientWidth} px`;
    if (!box || box === document.body || box === document.documentElement) {
      clipped.push(`${sizes}, spilling out of its box: ${JSON.stringify(first)}`);
      continue;
    }
    const boxStyle = getComputedStyle(box);
    if (boxStyle.overflowX !== "auto" && boxStyle.overflowX !== "scroll") {
      clipped.push(`${sizes}, cut off (overflow-x: ${boxStyle.overflowX}): ` +
                   JSON.stringify(first));
      continue;
    }
    const bar = box.offsetHeight - box.clientHeight - parseFloat(boxStyle.borderTopWidth)
                - parseFloat(boxStyle.borderBottomWidth);
    if (bar <= 0) {
      clipped.push(`${sizes}, scrollable but no scrollbar is drawn: ${JSON.stringify(first)}`);
    }
  }
  const maths = [...document.querySelectorAll(".math")];
  return JSON.stringify({
    texts: texts,
    typesetBackslashes: typesetBackslashes,
    clippedCode: clipped,
    untypeset: maths.filter((m) => !m.querySelector("mjx-container"))
                    .map((m) => m.textContent.slice(0, 60)),
    mathErrors: [...document.querySelectorAll("mjx-merror")]
                    .map((m) => m.getAttribute("data-mjx-error") || m.textContent),
    brokenImages: [...document.images].filter((i) => !i.complete || i.naturalWidth === 0)
                    .map((i) => i.getAttribute("src")),
    failedFonts: [...document.fonts].filter((f) => f.status === "error")
                    .map((f) => f.family),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    ids: [...document.querySelectorAll("[id], a[name]")].map((e) => e.id || e.name),
  });
})()
"""

# What must not appear in the visible text of a rendered page: maths delimiters, ...
_RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$")
# ... a TeX command or an escaped special character (\omega, \text, \_, \{ ...), ...
_TEX_ESCAPE = re.compile(r"\\(?:[A-Za-z]+|[_{}%&#$^,;:!|])")
# ... or inline maths between single dollars: MyST's rule, no space inside either end.
_DOLLAR_MATHS = re.compile(r"(?<![$\\])\$(?=[^\s$])[^$\n]{0,200}?(?<=[^\s$\\])\$(?![$\d])")
_DIRECTIVE_TEXT = (":alt:", ":width:", ":align:", ":name:", ":options:", "```", "{figure}")

# The page size of every check and screenshot; "mobile" gives overlay scrollbars (as on
# phones and Macs), so an unstyled scrollbar takes no room and is invisible.
_WIDTH, _HEIGHT = 1280, 1600
_MOST_SCREENSHOT_HEIGHT = 16_000
"""Pixels: a taller page is captured down to this height (a GPU texture's limit)."""


_FENCE = re.compile(r"^(`{3,}|:{3,})\{[\w:-]+\}")
_OPTION = re.compile(r"^:[\w-]+:(\s|$)")


def source_problems(sources: Path) -> list[str]:
    """MyST directive options continued on the next line, in the ``.md`` files under ``sources``."""
    problems = []
    for path in sorted(sources.rglob("*.md")):
        if "_build" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if not _FENCE.match(line):
                continue
            for k in range(number + 1, len(lines)):
                if _OPTION.match(lines[k]):
                    continue
                if lines[k][:1].isspace() and lines[k].strip() and k > number + 1:
                    problems.append(
                        f"{path.relative_to(sources)}:{k + 1}: the option above continues on "
                        "this line; MyST shows it as text: keep each option on one line"
                    )
                break
    return problems


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium executable: ``explicit``, ``$CHROMIUM``, or the first on ``PATH``."""
    for name in (explicit, os.environ.get("CHROMIUM"), *CHROMIUM_NAMES):
        if name and (path := shutil.which(name)):
            return path
    return None


def _high_fd(fd: int) -> int:
    """``fd`` moved to a descriptor number >= 10 (close-on-exec, like ``os.pipe``'s)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, executable: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="check-pages-")
        # The browser's ends are moved to fds >= 10 first, so that the child's dup2
        # onto 3 and 4 never overwrites one of them (and always clears close-on-exec).
        to_browser_r, self._to_browser = (_high_fd(fd) for fd in os.pipe())
        self._from_browser, from_browser_w = (_high_fd(fd) for fd in os.pipe())

        def connect_pipes() -> None:  # runs in the child, before exec
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        args = [
            executable,
            "--headless=new",
            "--remote-debugging-pipe",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--allow-file-access-from-files",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no name resolves
            f"--user-data-dir={self._profile.name}",
            "about:blank",
        ]
        self._process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=connect_pipes,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call("Page.enable", session=self.session)
        self.call("Network.enable", session=self.session)
        _set_viewport(self, _HEIGHT)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(message)
        return result

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events are kept for later)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                answer: dict[str, Any] = reply.get("result", {})
                return answer
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for an event of the page's session (one kept earlier counts)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for k, event in enumerate(self._events):
                if event["method"] == method and event.get("sessionId") == self.session:
                    del self._events[k]
                    return event
            self._events.append(self._read(deadline))

    def take_events(self, method: str) -> list[dict[str, Any]]:
        taken = [e for e in self._events if e["method"] == method]
        self._events = [e for e in self._events if e["method"] != method]
        return taken

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._profile.cleanup()


@dataclass
class PageReport:
    """What one page showed in the browser."""

    path: Path
    problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


def _tex_in(text: str) -> str | None:
    """The first piece of TeX that ``text`` shows, or ``None``."""
    for delimiter in _RAW_TEX:
        if delimiter in text:
            return delimiter
    found = _TEX_ESCAPE.search(text) or _DOLLAR_MATHS.search(text)
    return found.group() if found else None


def _visible_problems(texts: list[str]) -> Iterator[str]:
    for text in texts:
        tex = _tex_in(text)
        if tex is not None:
            yield f"raw TeX {tex!r} in the text: {text.strip()[:80]!r}"
        found = [s for s in _DIRECTIVE_TEXT if s in text]
        if found:
            yield f"directive text {found[0]!r} in the page: {text.strip()[:80]!r}"


def check_page(browser: Browser, path: Path) -> PageReport:
    """Load one page and report what is wrong with it as rendered."""
    report = PageReport(path)
    browser.take_events("Network.requestWillBeSent")
    browser.take_events("Page.loadEventFired")
    browser.call("Page.navigate", session=browser.session, url=path.resolve().as_uri())
    browser.wait_for("Page.loadEventFired")
    result = browser.call(
        "Runtime.evaluate",
        session=browser.session,
        expression=_REPORT_JS,
        awaitPromise=True,
        returnByValue=True,
    )
    if "exceptionDetails" in result:
        report.problems.append(f"the page check failed: {result['exceptionDetails'].get('text')}")
        return report
    seen = json.loads(result["result"]["value"])
    report.problems += _visible_problems(seen["texts"])
    report.problems += [
        f"raw TeX in typeset maths (a backslash is shown): {tex!r}"
        for tex in seen["typesetBackslashes"]
    ]
    report.problems += [f"code block clipped: {what}" for what in seen["clippedCode"]]
    report.problems += [f"maths not typeset: {t!r}" for t in seen["untypeset"]]
    report.problems += [f"MathJax error: {t!r}" for t in seen["mathErrors"]]
    report.problems += [f"image did not load: {src}" for src in seen["brokenImages"]]
    report.problems += [f"font did not load: {family}" for family in seen["failedFonts"]]
    for event in browser.take_events("Network.requestWillBeSent"):
        url = event["params"]["request"]["url"]
        if not url.startswith(("file:", "data:", "about:", "blob:")):
            report.problems.append(f"request to the network: {url}")
    report.links = seen["links"]
    report.ids = set(seen["ids"])
    return report


def _link_problems(reports: dict[Path, PageReport], root: Path) -> Iterator[tuple[Path, str]]:
    for page, report in reports.items():
        for link in report.links:
            url, fragment = urldefrag(link)
            parsed = urlparse(url)
            if parsed.scheme != "file":
                continue  # external links are not followed (no network)
            target = Path(unquote(parsed.path))
            if not target.exists():
                yield page, f"broken link to {target.relative_to(root.resolve())!s}"
            elif fragment and target.suffix == ".html":
                ids = reports[target].ids if target in reports else None
                if ids is not None and unquote(fragment) not in ids:
                    name = target.relative_to(root.resolve())
                    yield page, f"broken link to {name}#{fragment} (no such anchor)"


def pages_of(root: Path) -> list[Path]:
    """Every HTML page of a build, without the copied sources and static files."""
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(p for p in root.rglob("*.html") if not skip & set(p.relative_to(root).parts[:-1]))


def screenshot_path(root: Path, page: Path, screenshots: Path) -> Path:
    """Where the screenshot of ``page`` (a page of the build under ``root``) goes."""
    return screenshots / page.resolve().relative_to(root.resolve()).with_suffix(".png")


def check_site(
    root: Path,
    executable: str,
    screenshots: Path | None = None,
    pages: list[Path] | None = None,
) -> list[str]:
    """Check every page of the build under ``root``; return one line per problem.

    With ``screenshots``, a full-page screenshot of each page is saved there.
    """
    browser = Browser(executable)
    try:
        reports: dict[Path, PageReport] = {}
        for page in pages if pages is not None else pages_of(root):
            reports[page.resolve()] = check_page(browser, page)
            if screenshots is not None:
                _screenshot(browser, screenshot_path(root, page, screenshots))
    finally:
        browser.close()
    problems = []
    for page, report in reports.items():
        name = page.relative_to(root.resolve())
        problems += [f"{name}: {problem}" for problem in report.problems[:_MOST_PER_PAGE]]
        if len(report.problems) > _MOST_PER_PAGE:
            problems.append(f"{name}: ... and {len(report.problems) - _MOST_PER_PAGE} more")
    problems += [
        f"{page.relative_to(root.resolve())}: {problem}"
        for page, problem in _link_problems(reports, root)
    ]
    return problems


def _set_viewport(browser: Browser, height: int) -> None:
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        session=browser.session,
        width=_WIDTH,
        height=height,
        deviceScaleFactor=1,
        mobile=True,  # overlay scrollbars: see _WIDTH
    )


def _screenshot(browser: Browser, output: Path) -> None:
    """The page loaded last, whole (up to the height limit).

    The viewport is stretched to the page for the capture: Chromium's own
    "beyond the viewport" capture leaves the scrollbars of code blocks out.
    """
    metrics = browser.call("Page.getLayoutMetrics", session=browser.session)
    height = min(math.ceil(metrics["cssContentSize"]["height"]), _MOST_SCREENSHOT_HEIGHT)
    _set_viewport(browser, max(height, _HEIGHT))
    try:
        data = browser.call(
            "Page.captureScreenshot",
            session=browser.session,
            format="png",
            clip={"x": 0, "y": 0, "width": _WIDTH, "height": max(height, 1), "scale": 1},
        )
    finally:
        _set_viewport(browser, _HEIGHT)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(base64.b64decode(data["data"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", nargs="?", type=Path, default=Path("docs/_build/html"))
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=Path("docs/_build/screenshots"),
        help="the folder for a screenshot of each page (default: docs/_build/screenshots)",
    )
    parser.add_argument("--chromium", help="the Chromium executable (default: found on PATH)")
    parser.add_argument(
        "--sources", type=Path, default=Path("docs"), help="the Markdown sources (default: docs)"
    )
    args = parser.parse_args(argv)
    sources = source_problems(args.sources) if args.sources.is_dir() else []
    executable = find_chromium(args.chromium)
    if executable is None:
        print("check_pages: Chromium not found (apt-get install chromium)", file=sys.stderr)
        for problem in sources:  # these need no browser
            print(problem, file=sys.stderr)
        return 1 if sources else 3
    if not (args.build / "index.html").is_file():
        print(
            f"check_pages: no index.html in {args.build}: build the manual first", file=sys.stderr
        )
        return 2
    start = time.monotonic()
    pages = pages_of(args.build)
    problems = sources + check_site(args.build, executable, args.screenshots, pages)
    for problem in problems:
        print(problem, file=sys.stderr)
    seconds = time.monotonic() - start
    verdict = f"{len(problems)} problem(s)" if problems else "no problems"
    print(
        f"check_pages: {len(pages)} pages in Chromium, {verdict} ({seconds:.0f} s); "
        f"screenshots: {args.screenshots}/"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
