"""``make pages``: the published site, as one folder for a static host (GitHub Pages).

    _build/pages/            the full course site (``make book``)
    _build/pages/workshop/   the workshop site, without solutions (``make book-nosolutions``)
    _build/pages/slides/     one slide deck per chapter (``make slides``)

The workflow's ``pages`` job runs ``make pages`` and uploads this folder. The
repository the site's buttons point to is ``repository.url`` in
``_config.yml``, the one place to change in a fork; built on GitHub's
runners, a URL that is not the repository being built is flagged, since the
site would then send its readers to someone else's copy.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import yaml

from mlecourse.paths import ROOT

PAGES_DIR = ROOT / "_build" / "pages"
FULL = ROOT / "_build" / "html"
WORKSHOP = ROOT / "_build" / "nosolutions" / "_build" / "html"
SLIDES = ROOT / "_build" / "slides"
SKIP = shutil.ignore_patterns(".buildinfo", ".doctrees", "*.map")


def repository_url(root: Path = ROOT) -> str:
    """The course's repository, from ``_config.yml``."""
    return yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"].rstrip("/")


def mismatch(url: str, github_repository: str | None) -> str:
    """A one-line warning when the site is built for another repository than it names."""
    if not github_repository:
        return ""
    expected = f"https://github.com/{github_repository}"
    if url.lower() == expected.lower():
        return ""
    return (f"_config.yml's repository.url is {url}, but this is {expected}: the site's buttons "
            f"will open {url}; set repository.url in _config.yml to publish your own copy")


def assemble(full: Path = FULL, workshop: Path = WORKSHOP, slides: Path = SLIDES,
             out: Path = PAGES_DIR) -> Path:
    """Copy the three builds into ``out``; each must exist (a missing one is named)."""
    for name, folder in (("the site (make book)", full), ("the workshop site (make book-nosolutions)", workshop),
                         ("the slides (make slides)", slides)):
        if not (folder / "index.html").is_file():
            raise FileNotFoundError(f"{folder} has no index.html: build {name} first")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(full, out, ignore=SKIP)
    shutil.copytree(workshop, out / "workshop", ignore=SKIP)
    shutil.copytree(slides, out / "slides", ignore=SKIP)
    (out / ".nojekyll").write_text("")  # serve _static/ and _sources/ as they are
    return out


def main(argv: list[str] | None = None) -> int:
    url = repository_url()
    warning = mismatch(url, os.environ.get("GITHUB_REPOSITORY"))
    if warning:
        print(f"::warning file=_config.yml::{warning}")
    try:
        out = assemble()
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    print(f"{out}: the site, workshop/ and slides/ ({size:.0f} MB) for {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
