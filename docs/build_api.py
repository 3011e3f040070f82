"""Build zerodl's API reference from its docstrings, and check every link.

    python docs/build_api.py --out build/api     # what `make docs` runs

pdoc renders one HTML page per public module into ``--out``. The build fails
(exit status 1, each problem on its own line) when pdoc warns (a docstring or
annotation it cannot read), when a link between the generated pages points
to a page or an anchor that does not exist, or when a relative link in the
Markdown documents (README.md, README.ja.md, docs/, examples/, notebooks/)
points to a file that does not exist.
"""

from __future__ import annotations

import argparse
import html.parser
import re
import sys
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent

# The modules a user imports; each package page lists what it re-exports. `zerodl`
# brings the modules of its __all__ (functional, numerical) with it.
MODULES = [
    "zerodl", "zerodl.nn", "zerodl.optim", "zerodl.data", "zerodl.train", "zerodl.io",
    "zerodl.landscape", "zerodl.viz", "zerodl.book", "zerodl.kernels", "zerodl.runs",
    "zerodl.distributed",
]
MARKDOWN = ["README.md", "README.ja.md", "CHANGELOG.md", "BENCHMARKS.md", "docs/*.md",
            "examples/**/*.md", "notebooks/**/*.md"]


def build(out: Path) -> list[str]:
    """Render the API reference into ``out``; return the problems found (empty when all is well)."""
    import pdoc
    import pdoc.render

    pdoc.render.configure(docformat="restructuredtext", show_source=True,
                          footer_text="zerodl: deep learning built from zero on NumPy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*MODULES, output_directory=out)
    problems = [f"pdoc: {w.message}" for w in caught]
    problems += check_html_links(out)
    problems += check_markdown_links(ROOT)
    return problems


def check_html_links(out: Path) -> list[str]:
    """Every relative link between the generated pages reaches an existing page and anchor."""
    pages = {path: _Links.of(path) for path in out.rglob("*.html")}
    problems = []
    for path, links in pages.items():
        for href in links.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(out)}: link {href!r}"
            if not target.exists():
                problems.append(f"{where} points to a missing page")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _Links.of(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where} points to a missing anchor")
    return problems


def check_markdown_links(root: Path) -> list[str]:
    """Every relative link in the Markdown documents reaches an existing file."""
    problems = []
    files = sorted({p for pattern in MARKDOWN for p in root.glob(pattern) if p.is_file()})
    for md in files:
        text = re.sub(r"```.*?```", "", md.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            if not (md.parent / unquote(parts.path)).exists():
                problems.append(f"{md.relative_to(root)}: link {target!r} points to a missing file")
    return problems


class _Links(html.parser.HTMLParser):
    """The hrefs and the ids of one HTML page."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    @classmethod
    def of(cls, path: Path) -> _Links:
        parser = cls()
        parser.feed(path.read_text(encoding="utf-8"))
        return parser

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag in ("a", "link") and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "api",
                        help="folder for the HTML pages (default build/api)")
    args = parser.parse_args(argv)
    problems = build(args.out)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"docs: {len(problems)} problem(s); the API reference is in {args.out}",
              file=sys.stderr)
        return 1
    print(f"docs: API reference written to {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
