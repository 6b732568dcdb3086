"""Sphinx configuration of the pytorch-warmup manual.

Build with ``make docs`` (HTML) and ``make doctest`` (runs every example).
"""

from __future__ import annotations

import argparse
import doctest
import functools
import inspect
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import pytorch_warmup

project = "pytorch-warmup"
author = "the pytorch-warmup contributors"
copyright = "the pytorch-warmup contributors; MIT License"
release = pytorch_warmup.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from _static/: the maths renders offline
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- MyST: $...$ and $$...$$ maths, ::: fences, heading anchors ---------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- autodoc + napoleon: the API reference comes from the docstrings ----------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_default_options: dict[str, Any] = {"show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# Every reference must resolve: a broken cross-reference is a warning, and the
# build runs with -W. Types from outside the project (torch, typing) have no
# target here, because the build does not reach the network for intersphinx.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:class", r"(torch|typing|collections|types|numpy|matplotlib|argparse|pathlib)\..*"),
    (r"py:class", r"(Optimizer|Tensor|LR|LRScheduler|Any|Sequence|Mapping|TracebackType)"),
    (r"py:class", r"pytorch_warmup\.base\._Dampening"),  # documented by dampening()
    (r"py:class", r"(optional|callable)"),
    (r"py:(obj|class)", r"pytorch_warmup\._lr\.LR"),
]

# -- doctest: only the examples written with the doctest directives run here;
# the docstrings' own examples already run under pytest --doctest-modules.
doctest_test_doctest_blocks = ""
# Exception messages are compared too (Sphinx ignores them by default).
doctest_default_flags = (
    doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
)
doctest_global_setup = """
import torch
torch.manual_seed(0)
"""

# -- HTML ----------------------------------------------------------------------
html_theme = "furo"
html_title = f"pytorch-warmup {release}"
html_static_path = ["_static"]
# Wide code blocks scroll with a scrollbar that is always drawn (checked by check_pages.py).
html_css_files = ["code-scroll.css"]

_logger = logging.getLogger(__name__)


def _check_api_coverage(app: Sphinx, env: Any) -> None:
    """Warn (an error under -W) for a public name the API reference does not document."""
    if app.builder.name not in {"html", "dirhtml", "doctest"}:
        return
    objects = env.get_domain("py").objects
    for name in pytorch_warmup.__all__:
        obj = getattr(pytorch_warmup, name)
        if name.startswith("__") or inspect.ismodule(obj):
            continue
        if f"pytorch_warmup.{name}" not in objects:
            _logger.warning(
                "pytorch_warmup.%s is in pytorch_warmup.__all__ but the API reference "
                "(docs/api.md) does not document it",
                name,
            )


def _resolve_reexported(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve references to names that the API reference documents at the package level.

    The public names are defined in submodules (``pytorch_warmup.base.LinearWarmup``) but
    documented where users import them from (``pytorch_warmup.LinearWarmup``). A docstring
    of a submodule that says ``BaseWarmup.warmup_factor``, or a reference to the full
    submodule path, is resolved against the package-level entry.
    """
    if node.get("refdomain") != "py":
        return None
    target: str = node["reftarget"]
    candidates = []
    if (node.get("py:module") or "").startswith("pytorch_warmup"):
        candidates.append(f"pytorch_warmup.{target}")
    parts = target.split(".")
    if parts[0] == "pytorch_warmup":
        candidates += ["pytorch_warmup." + ".".join(parts[i:]) for i in range(2, len(parts))]
    domain = env.get_domain("py")
    for candidate in candidates:
        if candidate in domain.objects:
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], candidate, node, contnode
            )
    return None


class CommandHelp(SphinxDirective):
    """``.. command-help:: [SUBCOMMAND]``: the ``--help`` text of ``pytorch-warmup``.

    Generated from the command's own argument parser when the manual is built, so the
    options listed in the manual are always those of the installed command.
    """

    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        from pytorch_warmup.cli import build_parser

        parser = build_parser()
        if self.arguments:
            name = self.arguments[0]
            commands = next(
                action.choices
                for action in parser._actions
                if isinstance(action, argparse._SubParsersAction)
            )
            if name not in commands:
                raise self.error(f"pytorch-warmup has no subcommand {name!r}")
            parser = commands[name]
        parser.formatter_class = functools.partial(argparse.HelpFormatter, width=88)
        text = parser.format_help().rstrip()
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def _package_level_ids(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give each submodule entry the anchor ``pytorch_warmup.<name>`` too, where it is free.

    viewcode names the anchors of a module's ``[docs]`` links after the path that first
    led it to the module (``pytorch_warmup.UntunedLinearWarmup`` leads to
    ``pytorch_warmup.untuned``), so a function documented under its submodule
    (``pytorch_warmup.untuned.untuned_period``) is linked as
    ``pytorch_warmup.untuned_period``: that anchor has to exist.
    """
    used = {i for node in doctree.findall(nodes.Element) for i in node.get("ids", [])}
    for signature in doctree.findall(addnodes.desc_signature):
        module, fullname = signature.get("module") or "", signature.get("fullname")
        alias = f"pytorch_warmup.{fullname}"
        if module.startswith("pytorch_warmup.") and fullname and alias not in used:
            signature["ids"].append(alias)
            used.add(alias)


def _public_bases(app: Sphinx, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """Show a private base class (such as ``_PeriodWarmup``) as its public bases."""
    public: list[Any] = []
    for base in bases:
        private = base.__name__.startswith("_") or "._" in base.__module__
        public.extend(b for b in (base.__bases__ if private else [base]) if b is not object)
    bases[:] = public


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("command-help", CommandHelp)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("env-updated", _check_api_coverage)
    app.connect("missing-reference", _resolve_reexported)
    app.connect("doctree-resolved", _package_level_ids)
    return {"parallel_read_safe": True}
