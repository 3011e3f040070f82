"""The API reference builds from the docstrings, and no link in it or in the Markdown docs is broken."""

import importlib.util
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
build_api = runpy.run_path(str(ROOT / "docs" / "build_api.py"))


@pytest.mark.skipif(importlib.util.find_spec("pdoc") is None,
                    reason="pdoc is not installed (pip install -e '.[docs]')")
def test_make_docs_builds_the_api_reference_without_a_problem(tmp_path):
    problems = build_api["build"](tmp_path)
    assert problems == []
    pages = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html")}
    assert {"zerodl.html", "zerodl/functional.html", "zerodl/nn.html", "zerodl/optim.html",
            "zerodl/book.html", "zerodl/kernels.html"} <= pages
    affine = (tmp_path / "zerodl" / "functional" / "linalg.html").read_text(encoding="utf-8")
    assert "the book's Affine layer (ch. 5.6.2)" in affine  # docstrings reach the pages


def test_the_link_checker_finds_a_missing_page_and_a_missing_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html">b</a> <a href="a.html#here">x</a>'
                                     '<a href="#nowhere">y</a><span id="here"></span>')
    problems = build_api["check_html_links"](tmp_path)
    assert problems == ["a.html: link 'b.html' points to a missing page",
                        "a.html: link '#nowhere' points to a missing anchor"]


def test_the_markdown_links_of_the_repository_reach_their_files():
    assert build_api["check_markdown_links"](ROOT) == []
