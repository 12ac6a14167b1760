"""The built site as a reader meets it: served on 127.0.0.1, opened in Chromium.

``tests/test_site_browser.py`` visits every page of the table of contents with
this module; ``make site-shots`` and ``make site-offline`` use it too::

    python -m mlecourse.course.site_check shots     # PNGs of every page into _build/shots/
    python -m mlecourse.course.site_check offline   # a copy that opens from file://

The browser is Debian's Chromium (``/usr/bin/chromium``), driven by
Playwright; axe-core comes from ``tools/browser`` (``npm ci`` there).
"""
from __future__ import annotations

import argparse
import gzip
import html.parser
import io
import re
import shutil
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from mlecourse.paths import ROOT

HTML = ROOT / "_build" / "html"
NOSOLUTIONS = ROOT / "_build" / "nosolutions" / "_build" / "html"
SHOTS = ROOT / "_build" / "shots"
OFFLINE = ROOT / "_build" / "offline"
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tools" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
ALLOWLIST = ROOT / "tools" / "browser" / "axe-allowlist.yml"
# What works here: no sandbox (containers run as root), no GPU, and none of
# Chromium's own calls home (updates, sync, QUIC probes).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 # Belt and braces: no host name resolves except the local server.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
# A static host (GitHub Pages, Netlify, nginx's gzip_types) compresses text, not images.
COMPRESSED = (".html", ".css", ".js", ".json", ".svg", ".txt", ".map", ".ipynb", ".ttf")


class SetupError(RuntimeError):
    """Something the browser check needs is missing; the message says how to fix it."""


# --- the pages ---------------------------------------------------------------

def _toc_files(node: dict) -> list[str]:
    found = [node["file"]] if "file" in node else []
    for key in ("parts", "chapters", "sections"):
        for child in node.get(key, []):
            found += _toc_files(child)
    return found


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every page of the table of contents, as a path in the built site, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [f"{name}.html" for name in _toc_files({"file": toc["root"], **toc})]


def require_build(site: Path) -> None:
    if not (site / "searchindex.js").exists():
        raise SetupError(f"no built site in {site}: run `make book` and `make book-nosolutions` first")


# --- a static host on 127.0.0.1 ----------------------------------------------

class _Handler(SimpleHTTPRequestHandler):
    """Serves the site as a static host would: text gzipped when the browser accepts it."""
    sent: dict[str, int]

    def log_message(self, *args) -> None:  # the test reports what matters itself
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (gzipped and path.is_file() and path.suffix in COMPRESSED):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.sent[urlsplit(self.path).path] = len(body)
        return io.BytesIO(body)


@contextmanager
def serve(site: Path):
    """The site on http://127.0.0.1:<free port>/; yields (base URL, bytes sent per path)."""
    sent: dict[str, int] = {}
    handler = type("Handler", (_Handler,), {"sent": sent})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", sent
    finally:
        server.shutdown()
        server.server_close()


def encoded_size(site: Path, url_path: str) -> int:
    """Bytes a static host sends for one file: gzip for text, the file itself otherwise."""
    path = site / unquote(url_path).lstrip("/")
    if not path.is_file():
        return 0
    data = path.read_bytes()
    return len(gzip.compress(data, compresslevel=6, mtime=0)) if path.suffix in COMPRESSED else len(data)


# --- the browser -------------------------------------------------------------

def launch(playwright):
    if not CHROMIUM.exists():
        raise SetupError(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def axe_source() -> str:
    if not AXE.exists():
        raise SetupError(f"axe-core is missing ({AXE}): run `npm ci --prefix tools/browser`")
    return AXE.read_text()


@dataclass
class Visit:
    """What one page did in the browser."""
    page: str
    url: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)        # requests that failed or answered >= 400
    outside: list[str] = field(default_factory=list)       # requests to any host but the local server
    requested: list[str] = field(default_factory=list)     # local paths, in order
    images: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    launch: list[str] = field(default_factory=list)     # the launch buttons' targets
    download: list[str] = field(default_factory=list)   # the .ipynb download button's
    violations: list[dict] = field(default_factory=list)
    text_contrast: dict = field(default_factory=dict)
    plot_contrast: list[float] = field(default_factory=list)


def watch(page, base: str, visit: Visit) -> None:
    """Record the page's console errors and requests; abort any that would leave the machine."""
    def on_request(request):
        if request.url.startswith(base):
            visit.requested.append(urlsplit(request.url).path)
        elif not request.url.startswith(("data:", "blob:", "about:")):
            visit.outside.append(request.url)

    def on_response(response):
        if response.status >= 400:
            visit.failed.append(f"{response.url} (HTTP {response.status})")

    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(
        f"{m.text} ({m.location.get('url', '')})"))
    page.on("pageerror", lambda err: visit.console_errors.append(str(err)))
    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfailed", lambda r: r.url.startswith(base) and visit.failed.append(
        f"{r.url} ({r.failure})"))


def block_outside(context, base: str) -> None:
    """Any request to another host is aborted (and recorded by `watch`)."""
    def handle(route):
        if route.request.url.startswith(base):
            route.fallback()
        else:
            route.abort("blockedbyclient")
    context.route("**/*", handle)


READ_PAGE = """() => ({
  images: [...document.querySelectorAll('img')].map(img => ({
    src: img.getAttribute('src'), alt: img.getAttribute('alt'), complete: img.complete,
    naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
    shownWidth: img.getBoundingClientRect().width, inOutput: !!img.closest('.cell_output'),
  })),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  launch: [...document.querySelectorAll('.dropdown-launch-buttons a')].map(a => a.href),
  download: [...document.querySelectorAll(".dropdown-download-buttons a[href$='.ipynb']")].map(a => a.href),
})"""


def inspect(page, visit: Visit, axe: bool = True) -> Visit:
    found = page.evaluate(READ_PAGE)
    visit.images, visit.links = found["images"], found["links"]
    visit.launch, visit.download = found["launch"], found["download"]
    readable(page, visit)
    if axe:
        visit.violations = run_axe(page)
    return visit


def readable(page, visit: Visit) -> Visit:
    """Contrast of the body text, and of each plot a notebook drew, as the page shows them."""
    if page.locator("main p, article p").count():
        visit.text_contrast = page.evaluate(TEXT_CONTRAST)
    visit.plot_contrast = [img.evaluate(PLOT_CONTRAST) for img in page.locator(".cell_output img").all()]
    return visit


# Every rule on the whole page, except colour contrast inside highlighted code:
# its thousands of token spans made axe take 10 s on a chapter, and the token
# colours come from one stylesheet, which `code_contrast` checks whole.
RUN_AXE = """async () => {
  const options = {resultTypes: ['violations']};
  const rest = await axe.run(document, {...options, rules: {'color-contrast': {enabled: false}}});
  const colour = await axe.run({exclude: [['.highlight']]},
                               {...options, runOnly: {type: 'rule', values: ['color-contrast']}});
  return [...rest.violations, ...colour.violations];
}"""


def run_axe(page) -> list[dict]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]]}
            for v in page.evaluate(RUN_AXE)]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        c = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def code_contrast(site: Path) -> dict[str, dict[str, float]]:
    """Each syntax colour's contrast on the code background, per theme, from pygments.css."""
    css = (site / "_static" / "pygments.css").read_text()
    ratios = {}
    for theme in ("light", "dark"):
        prefix = re.escape(f'html[data-theme="{theme}"] .highlight')
        background = re.search(prefix + r" \{ background: (#[0-9a-fA-F]{6})", css).group(1)
        tokens = re.findall(prefix + r" \.(\w+) \{ color: (#[0-9a-fA-F]{6})", css)
        ratios[theme] = {token: round(contrast(colour, background), 2) for token, colour in tokens}
    return ratios


def open_page(context, base: str, name: str, axe: bool = True) -> Visit:
    visit = Visit(name, base + name)
    page = context.new_page()
    watch(page, base, visit)
    try:
        response = page.goto(visit.url, wait_until="load")
        if response is None or not response.ok:
            visit.failed.append(f"{visit.url} (HTTP {response.status if response else 'no response'})")
        return inspect(page, visit, axe)
    finally:
        page.close()


# --- links and anchors -------------------------------------------------------

class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


def _ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        parser = _Ids()
        parser.feed(path.read_text(errors="replace"))
        cache[path] = parser.ids
    return cache[path]


def broken_links(site: Path, base: str, links: list[str], cache: dict[Path, set[str]]) -> list[str]:
    """Internal links whose file is missing, or whose #anchor is on no element of the target."""
    broken = []
    for link in dict.fromkeys(links):
        if not link.startswith(base):
            continue
        parts = urlsplit(link)
        target = site / unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{link} (no such file)")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target, cache):
            broken.append(f"{link} (no element with id {unquote(parts.fragment)!r})")
    return broken


class _SolutionText(html.parser.HTMLParser):
    """A page's words, split into those inside a worked solution and the rest."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []   # (tag, opens a solution)
        self.depth = 0                            # how many solutions we are inside
        self.skip = 0                             # inside <script> or <style>
        self.solved: list[str] = []
        self.rest: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        opens = tag == "div" and "solution" in (dict(attrs).get("class") or "").split()
        self.stack.append((tag, opens))
        self.depth += opens
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        while self.stack:
            name, opened = self.stack.pop()
            self.depth -= opened
            self.skip -= name in ("script", "style")
            if name == tag:
                break

    def handle_data(self, data):
        if not self.skip:
            (self.solved if self.depth else self.rest).append(data)


def solution_words(pages: list[Path], length: int = 9) -> tuple[set[str], set[str]]:
    """Long words inside worked solutions, and long words anywhere else, over these pages."""
    solved, rest = set(), set()
    for page in pages:
        parser = _SolutionText()
        parser.feed(page.read_text())
        solved |= set(re.findall(rf"[a-z]{{{length},}}", " ".join(parser.solved).lower()))
        rest |= set(re.findall(rf"[a-z]{{{length},}}", " ".join(parser.rest).lower()))
    return solved, rest


# --- contrast ----------------------------------------------------------------

TEXT_CONTRAST = """() => {
  const lum = (rgb) => { const c = rgb.map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
  const parse = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const backdrop = (el) => { for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); }
    return [255, 255, 255]; };
  // The body text itself: a paragraph of a section, not one inside a coloured box.
  const p = document.querySelector('main section > p') || document.querySelector('main p, article p');
  const fg = parse(getComputedStyle(p).color).slice(0, 3), bg = backdrop(p);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return {ratio: (a + 0.05) / (b + 0.05), fg, bg};
}"""

# A plot is readable when its ink stands out from what it is drawn on: draw it
# over its backdrop (its own background, or the page's if it is transparent)
# and through the theme's CSS filter, as the screen shows it; take the
# commonest colour as the paper and the darkest 0.5% (or lightest) as the ink:
# at full size, as a reader zooms in (scaled down, thin text blurs to grey).
PLOT_CONTRAST = """async (img) => {
  await img.decode().catch(() => null);
  const lum = (r, g, b) => { const c = [r, g, b].map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
  const parse = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  let bg = [255, 255, 255];
  for (let el = img; el; el = el.parentElement) {
    const c = parse(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { bg = c.slice(0, 3); break; } }
  const w = Math.min(img.naturalWidth, 1200), h = Math.round(img.naturalHeight * w / img.naturalWidth);
  const canvas = document.createElement('canvas'); canvas.width = w; canvas.height = h;
  const drawn = document.createElement('canvas'); drawn.width = w; drawn.height = h;
  const under = drawn.getContext('2d');
  under.fillStyle = `rgb(${bg.join(',')})`; under.fillRect(0, 0, w, h); under.drawImage(img, 0, 0, w, h);
  // ... then through the CSS filter the theme puts on it (dark mode dims images).
  const ctx = canvas.getContext('2d');
  const filter = getComputedStyle(img).filter; ctx.filter = filter === 'none' ? 'none' : filter;
  ctx.drawImage(drawn, 0, 0);
  // A histogram of luminance in 1/1000 steps: the paper is its mode, the ink a tail.
  const px = ctx.getImageData(0, 0, w, h).data, bins = new Uint32Array(1001);
  for (let i = 0; i < px.length; i += 4) bins[Math.round(lum(px[i], px[i + 1], px[i + 2]) * 1000)]++;
  const total = px.length / 4, tail = total * 0.005;
  let mode = 0; for (let k = 0; k <= 1000; k++) if (bins[k] > bins[mode]) mode = k;
  const quantile = (from, step) => { let seen = 0, k = from;
    for (; k >= 0 && k <= 1000; k += step) { seen += bins[k]; if (seen > tail) break; } return k / 1000; };
  const paper = mode / 1000, dark = quantile(0, 1), light = quantile(1000, -1);
  const ink = Math.abs(paper - dark) > Math.abs(light - paper) ? dark : light;
  const [a, b] = [paper, ink].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


# --- make site-shots and make site-offline -----------------------------------

def shots(site: Path = HTML, out: Path = SHOTS, pages: list[str] | None = None, browser=None) -> list[Path]:
    """A PNG of the top of every page, and of each chapter's first plot."""
    require_build(site)
    if browser is None:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as pw:
            browser = launch(pw)
            try:
                return shots(site, out, pages, browser)
            finally:
                browser.close()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serve(site) as (base, _):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        block_outside(context, base)
        for name in pages or toc_pages():
            page = context.new_page()
            page.goto(base + name, wait_until="load")
            stem = name.removesuffix(".html").replace("/", "__")
            page.screenshot(path=out / f"{stem}.png")
            written.append(out / f"{stem}.png")
            plot = page.locator(".cell_output img").first
            if plot.count():
                plot.scroll_into_view_if_needed()
                plot.screenshot(path=out / f"{stem}__plot.png")
                written.append(out / f"{stem}__plot.png")
            page.close()
        context.close()
    return written


def offline(site: Path = HTML, out: Path = OFFLINE) -> Path:
    """A copy of the site that opens from file:// with no network; returns its front page."""
    require_build(site)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(site, out, ignore=shutil.ignore_patterns(".buildinfo", "*.map", ".doctrees"))
    # Search works from file:// (the index is a <script>), but each result's
    # summary is fetched, and browsers forbid fetch() on file://: list the
    # matching pages by title alone, rather than log an error per result.
    options = out / "_static" / "documentation_options.js"
    options.write_text(options.read_text().replace("SHOW_SEARCH_SUMMARY: true", "SHOW_SEARCH_SUMMARY: false"))
    return out / "intro.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.course.site_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["shots", "offline"])
    parser.add_argument("--no-solutions", action="store_true", help="use the workshop build")
    args = parser.parse_args(argv)
    site = NOSOLUTIONS if args.no_solutions else HTML
    try:
        if args.command == "shots":
            written = shots(site)
            print(f"{len(written)} screenshots in {SHOTS}")
        else:
            front = offline(site, OFFLINE / ("nosolutions" if args.no_solutions else "full"))
            print(f"Open file://{front} (no network needed)")
    except SetupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
