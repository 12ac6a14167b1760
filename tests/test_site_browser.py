"""The site as a reader meets it: every page of the table of contents, in both
builds, opened in Chromium from a static host on 127.0.0.1.

Pages come from _toc.yml, so a new chapter is covered without a change here.
The builds are the ones test_book.py checks (the `site_builds` fixture).
"""
from __future__ import annotations

import json
import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from mlecourse.course import site_check as sc
from mlecourse.paths import ROOT

BUILDS = {"full": sc.HTML, "nosolutions": sc.NOSOLUTIONS}
PAGES = sc.toc_pages()
CASES = [(build, page) for build in BUILDS for page in PAGES]
NOTEBOOK_PAGES = [p for p in PAGES if p.startswith(("chapters/", "solutions/"))]
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]
# Gzipped bytes a reader downloads for one chapter page with an empty cache:
# all of it (MathJax, 0.68 MB, only where a page has math), and the page's own
# HTML and plots. Measured: 0.62-1.24 MB in all, 0.13-0.27 MB of its own.
WEIGHT_BUDGET, OWN_BUDGET = 1_400_000, 400_000
# WCAG AA: body text 4.5:1; a plot's lines and labels at least that against its paper.
TEXT_CONTRAST, PLOT_CONTRAST = 4.5, 4.5
REPORT = ROOT / "_build" / "site-report.json"


def case_id(case) -> str:
    return f"{case[0]}:{case[1]}"


def _tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in (site / "_static").rglob("*") if p.is_file()}


_SAME_STATIC: dict[str, bool] = {}


def same_page(build: str, page: str) -> bool:
    """Whether a page of another build is byte for byte the full build's, theme included."""
    if build not in _SAME_STATIC:
        _SAME_STATIC[build] = _tree(BUILDS[build]) == _tree(BUILDS["full"])
    return _SAME_STATIC[build] and (BUILDS[build] / page).read_bytes() == (BUILDS["full"] / page).read_bytes()


@dataclass
class Site:
    browser: object
    bases: dict[str, str]
    sent: dict[str, dict[str, int]]
    contexts: dict[str, object]
    visits: dict[tuple[str, str], sc.Visit] = field(default_factory=dict)
    ids: dict[Path, set[str]] = field(default_factory=dict)

    def visit(self, build: str, page: str) -> sc.Visit:
        if (build, page) not in self.visits:
            if build != "full" and same_page(build, page):
                # The very bytes of the full build's page, on an identical _static/:
                # the browser would do the same again. Links are still checked in this tree.
                self.visits[build, page] = self.visit("full", page)
            else:
                self.visits[build, page] = sc.open_page(self.contexts[build], self.bases[build], page)
        return self.visits[build, page]

    def page(self, build: str, page: str, **goto):
        """A fresh tab on one page, for a test that clicks or reads it."""
        tab = self.contexts[build].new_page()
        tab.goto(self.bases[build] + page, **goto)
        return tab


@pytest.fixture(scope="module")
def site(site_builds):
    from playwright.sync_api import sync_playwright

    for result in site_builds:
        assert result.returncode == 0, "the site did not build (see test_book.py); nothing to open"
    report = {"weights": {}, "axe": {}}
    with ExitStack() as stack:
        pw = stack.enter_context(sync_playwright())
        browser = sc.launch(pw)
        stack.callback(browser.close)
        bases, sent, contexts = {}, {}, {}
        for build, path in BUILDS.items():
            sc.require_build(path)
            bases[build], sent[build] = stack.enter_context(sc.serve(path))
            contexts[build] = browser.new_context(viewport={"width": 1280, "height": 900})
            sc.block_outside(contexts[build], bases[build])
        site = Site(browser, bases, sent, contexts)
        site.report = report
        yield site
    REPORT.write_text(json.dumps(report, indent=1, sort_keys=True))


def where(visit: sc.Visit) -> str:
    return f"page {visit.page} ({visit.url})"


# --- every page loads, alone, cleanly ----------------------------------------

@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_page_loads_with_no_error_and_nothing_from_the_internet(site, case):
    visit = site.visit(*case)
    assert not visit.outside, f"{where(visit)} asked the internet for: {visit.outside}"
    assert not visit.failed, f"{where(visit)}: these requests failed: {visit.failed}"
    assert not visit.console_errors, f"{where(visit)} logged errors: {visit.console_errors}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_internal_link_and_anchor_resolves(site, case):
    visit = site.visit(*case)
    broken = sc.broken_links(BUILDS[case[0]], site.bases[case[0]], visit.links, site.ids)
    assert not broken, f"{where(visit)} links to what is not there: {broken}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_images_load_and_have_alt_text(site, case):
    visit = site.visit(*case)
    for img in visit.images:
        alt = (img["alt"] or "").strip()
        assert img["complete"] and img["naturalWidth"] > 0, f"{where(visit)}: image {img['src']} did not load"
        assert alt and not re.search(r"\.(png|jpe?g|svg|gif)$", alt), (
            f"{where(visit)}: image {img['src']} has no alt text (alt={img['alt']!r})")


@pytest.mark.parametrize("case", [(b, p) for b in BUILDS for p in CHAPTERS], ids=case_id)
def test_the_chapters_plots_are_on_the_page_and_shown(site, case):
    built = len(re.findall(r'<img [^>]*src="\.\./_images/', (BUILDS[case[0]] / case[1]).read_text()))
    visit = site.visit(*case)
    shown = [img for img in visit.images if img["src"].startswith("../_images/")
             and img["naturalWidth"] > 0 and img["shownWidth"] > 0]
    assert built and len(shown) == built, f"{where(visit)} shows {len(shown)} of its {built} plots"


# --- accessibility -----------------------------------------------------------

def allowed(rule: str, target: str, page: str) -> bool:
    for entry in yaml.safe_load(sc.ALLOWLIST.read_text()):
        if entry["rule"] == rule and re.search(entry["target"], target) and re.search(entry.get("pages", ""), page):
            return True
    return False


def test_the_allow_list_gives_a_reason_for_every_entry():
    entries = yaml.safe_load(sc.ALLOWLIST.read_text())
    for entry in entries:
        assert {"rule", "target", "reason"} <= set(entry), entry
        assert len(entry["reason"].split()) >= 8, f"say why {entry['rule']} is allowed: {entry}"


def test_code_colours_are_readable_in_both_themes():
    low = {theme: {token: ratio for token, ratio in ratios.items() if ratio < TEXT_CONTRAST}
           for theme, ratios in sc.code_contrast(sc.HTML).items()}
    assert all(len(r) > 20 for r in sc.code_contrast(sc.HTML).values()), "pygments.css has no token colours"
    assert not any(low.values()), f"code colours under {TEXT_CONTRAST}:1 on the code background: {low}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_no_serious_accessibility_violation(site, case):
    visit = site.visit(*case)
    serious = [(v["id"], t) for v in visit.violations if v["impact"] in ("serious", "critical")
               for t in v["targets"]]
    left = [f"{rule} at {target}" for rule, target in serious if not allowed(rule, target, case[1])]
    site.report["axe"][case_id(case)] = {"serious_or_critical": len(serious), "not_allowed": len(left)}
    assert not left, (f"{where(visit)}: axe-core finds {left}; fix them, or add each to "
                      f"{sc.ALLOWLIST.relative_to(ROOT)} with its reason")


# --- page weight -------------------------------------------------------------

def weigh(site: Site, build: str, visit: sc.Visit) -> dict[str, int]:
    """Bytes sent for the page, split into what the theme costs and what the page itself does."""
    parts = {"theme": 0, "mathjax": 0, "page": 0}
    for path in dict.fromkeys(visit.requested):
        size = site.sent[build].get(path) or sc.encoded_size(BUILDS[build], path)
        kind = "mathjax" if "/_static/mathjax/" in path else "theme" if "/_static/" in path else "page"
        parts[kind] += size
    return parts


@pytest.mark.parametrize("page", CHAPTERS)
def test_a_chapter_page_is_within_its_weight_budget(site, page):
    visit = site.visit("full", page)
    parts = weigh(site, "full", visit)
    site.report["weights"][page] = {**parts, "total": sum(parts.values())}
    assert sum(parts.values()) <= WEIGHT_BUDGET, f"{where(visit)} weighs {parts} bytes (gzip), over {WEIGHT_BUDGET}"
    assert parts["page"] <= OWN_BUDGET, f"{where(visit)}: its own HTML and plots weigh {parts['page']} bytes"
    for img in visit.images:
        if img["inOutput"] and img["shownWidth"]:
            assert img["naturalWidth"] <= 2.5 * img["shownWidth"], (
                f"{where(visit)}: {img['src']} is {img['naturalWidth']} px wide, shown at {img['shownWidth']:.0f}")


# --- search --------------------------------------------------------------------

# Run one search on the search page (or, for the query in its URL, wait for the
# page's own) and return the links it lists once it says it has finished.
SEARCH = """async ([term, fromUrl]) => {
  const out = document.getElementById('search-results');
  if (!fromUrl) { out.innerHTML = ''; Search.performSearch(term); }
  const done = () => /finished|did not match/.test(out.querySelector('.search-summary')?.innerText || '');
  for (let i = 0; i < 400 && !done(); i++) await new Promise(r => setTimeout(r, 25));
  return done() ? [...out.querySelectorAll('ul.search li > a')].map(a => a.getAttribute('href')) : null;
}"""


def glossary_terms(notebook: Path) -> list[str]:
    """The glossary terms a chapter links, each as the glossary names it."""
    text = notebook.read_text()
    terms = []
    for role in re.findall(r"\{term\}`([^`]+)`", text):
        target = re.search(r"<([^>]+)>$", role)
        terms.append((target.group(1) if target else role).replace("\\n", " ").strip())
    return list(dict.fromkeys(terms))


def search(site: Site, build: str, terms: list[str]) -> dict[str, list[str] | None]:
    # The first through the URL, as a reader's query arrives; the rest on the same page.
    tab = site.page(build, f"search.html?q={quote(terms[0])}")
    try:
        return {term: tab.evaluate(SEARCH, [term, i == 0]) for i, term in enumerate(terms)}
    finally:
        tab.close()


@pytest.mark.parametrize("build", BUILDS)
def test_search_finds_each_chapter_by_its_own_glossary_terms(site, build):
    wanted = {page: glossary_terms(ROOT / page.replace(".html", ".ipynb"))[:3] for page in CHAPTERS}
    assert all(wanted.values()), f"a chapter links no glossary term: {wanted}"
    found = search(site, build, [t for terms in wanted.values() for t in terms])
    for page, terms in wanted.items():
        for term in terms:
            assert found[term] is not None, f"{build} search for {term!r} never finished"
            assert page in found[term], f"{build} search for {term!r} does not find {page}: {found[term]}"


def test_a_word_only_a_solution_uses_is_not_found_without_solutions(site):
    solved, rest = sc.solution_words([sc.HTML / page for page in PAGES])
    # Sphinx's search stems words (Porter): keep those whose stem no other text on the site shares.
    import snowballstemmer
    stem = snowballstemmer.stemmer("porter").stemWord
    stems = {stem(w) for w in sc.solution_words([sc.HTML / page for page in PAGES], length=3)[1]}
    # An open exercise's rubric stays on the workshop site on purpose: only the
    # checked solutions' words must be gone.
    from mlecourse.course import workshop_build
    from mlecourse.paths import SOLUTIONS_DIR
    hidden = " ".join(line for path in SOLUTIONS_DIR.glob("*.ipynb")
                      for line in workshop_build.solution_lines(path)).lower()
    only = sorted(w for w in solved - rest if stem(w) not in stems and w in hidden)[:3]
    assert only, "no word appears only in solutions: is any solution on the site?"
    with_solutions, without = search(site, "full", only), search(site, "nosolutions", only)
    for word in only:
        assert any(h.startswith("solutions/") for h in with_solutions[word] or []), (
            f"the full build's search does not find {word!r}, which a solution uses")
        assert without[word] == [], f"the build without solutions finds {word!r} on {without[word]}"


# --- exercises: folded solutions, download and launch --------------------------

@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("solutions/")])
def test_solutions_start_folded_and_open_on_a_click(site, page):
    tab = site.page("full", page)
    try:
        solution = tab.locator(".solution.dropdown").first
        assert solution.count(), f"page {page} has no solution"
        body = solution.locator("section").first
        assert not body.is_visible(), f"page {page}: a solution is open before any click"
        solution.locator(".admonition-title button.toggle-button").click()
        body.wait_for(state="visible", timeout=3000)
    finally:
        tab.close()


@pytest.mark.parametrize("case", [(b, p) for b in BUILDS for p in NOTEBOOK_PAGES], ids=case_id)
def test_download_and_launch_buttons_point_at_the_pages_notebook(site, case):
    build, page = case
    notebook = page.replace(".html", ".ipynb")
    if build == "nosolutions" and page.startswith("solutions/"):
        notebook = notebook.replace("solutions/", "exercises/")  # a workshop opens the exercises
    visit = site.visit(build, page)
    launch, download = visit.launch, visit.download
    # A page reused from the full build (same bytes) still downloads from this build's server.
    got = site.contexts[build].request.get(download[0].replace(site.bases["full"], site.bases[build])) \
        if download else None
    assert any("mybinder.org" in u for u in launch) and any("colab" in u for u in launch), (
        f"page {page} ({build}): launch buttons missing: {launch}")
    for url in launch:
        assert url.endswith(notebook), f"page {page} ({build}) launches {url}, not {notebook}"
    assert got is not None and got.ok, f"page {page} ({build}): the .ipynb download is missing or broken"
    cells = json.loads(got.body())["cells"]
    assert cells == json.loads((ROOT / notebook).read_text())["cells"], (
        f"page {page} ({build}) downloads another notebook than {notebook}")


# --- light and dark ----------------------------------------------------------

def unreadable(visit: sc.Visit) -> list[str]:
    low = []
    if visit.text_contrast and visit.text_contrast["ratio"] < TEXT_CONTRAST:
        low.append(f"{where(visit)}: body text at {visit.text_contrast}")
    low += [f"{where(visit)}: plot {i + 1} at {ratio:.1f}:1"
            for i, ratio in enumerate(visit.plot_contrast) if ratio < PLOT_CONTRAST]
    return low


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_text_and_plots_are_readable_in_the_light_theme(site, page):
    visit = site.visit("full", page)
    assert visit.text_contrast, f"{where(visit)} has no paragraph to measure"
    assert not unreadable(visit), unreadable(visit)


def test_chapter_text_and_plots_are_readable_in_the_dark_theme(site):
    context = site.browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    sc.block_outside(context, site.bases["full"])
    low = []
    try:
        for page in CHAPTERS:
            tab = context.new_page()
            tab.goto(site.bases["full"] + page)
            assert tab.evaluate("document.documentElement.dataset.theme") == "dark", page
            visit = sc.readable(tab, sc.Visit(page, tab.url))
            assert visit.text_contrast and len(visit.plot_contrast) == len(
                [i for i in site.visit("full", page).plot_contrast]), page
            low += unreadable(visit)
            tab.close()
    finally:
        context.close()
    assert not low, f"hard to read in the dark theme: {low}"


# --- the offline copy --------------------------------------------------------

def test_the_offline_copy_works_from_file_with_search(site, tmp_path):
    front = sc.offline(sc.HTML, tmp_path / "site")
    context = site.browser.new_context()
    visit = sc.Visit("offline", front.as_uri())
    try:
        tab = context.new_page()
        sc.watch(tab, "file://", visit)
        tab.goto(front.as_uri())
        chapter = tab.locator(f"nav a[href$='{CHAPTERS[0]}']").first
        chapter.click()
        tab.wait_for_load_state("load")
        assert tab.url.endswith(CHAPTERS[0]), tab.url
        built = len(re.findall(r'<img [^>]*src="\.\./_images/', (sc.HTML / CHAPTERS[0]).read_text()))
        assert tab.locator("img[src^='../_images/']").count() == built
        images = tab.evaluate("[...document.images].filter(i => !i.naturalWidth).map(i => i.src)")
        assert not images, f"offline, these images do not load: {images}"
        term = glossary_terms(ROOT / CHAPTERS[0].replace(".html", ".ipynb"))[0]
        tab.goto((front.parent / "search.html").as_uri() + f"?q={term}")
        tab.wait_for_selector("#search-results .search-summary:has-text('finished')", timeout=10_000)
        hits = tab.eval_on_selector_all("ul.search li > a", "as => as.map(a => a.getAttribute('href'))")
        assert CHAPTERS[0] in hits, f"offline search for {term!r} finds {hits}"
    finally:
        context.close()
    assert not visit.outside, f"offline copy asked the internet for {visit.outside}"
    assert not visit.console_errors, f"offline copy logged errors: {visit.console_errors}"


# --- the check itself fails where it should ----------------------------------

def test_a_missing_image_or_a_request_to_the_internet_is_named_with_its_page(site, tmp_path):
    (tmp_path / "searchindex.js").write_text("")
    (tmp_path / "bad.html").write_text('<html lang="en"><title>t</title><main><p>text</p>'
                                       '<img alt="a plot" src="_images/missing.png">'
                                       '<img alt="a logo" src="https://example.org/logo.png"></main></html>')
    with sc.serve(tmp_path) as (base, _):
        context = site.browser.new_context()
        sc.block_outside(context, base)
        try:
            visit = sc.open_page(context, base, "bad.html", axe=False)
        finally:
            context.close()
    assert visit.outside == ["https://example.org/logo.png"]
    assert any("_images/missing.png" in f and "404" in f for f in visit.failed), visit.failed
    assert "bad.html" in where(visit) and base in where(visit)


def test_site_shots_writes_a_png_of_a_page_and_of_its_first_plot(site, tmp_path):
    written = sc.shots(sc.HTML, tmp_path, pages=[CHAPTERS[0]], browser=site.browser)
    assert [p.name for p in written] == [CHAPTERS[0].replace("/", "__").replace(".html", ".png"),
                                        CHAPTERS[0].replace("/", "__").replace(".html", "__plot.png")]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000 for p in written)
