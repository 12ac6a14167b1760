"""The site's theme, trimmed to what a reader needs (tested by tests/test_site_browser.py).

* No Font Awesome JavaScript: the theme's stylesheet already draws every icon
  from the web font, and the 1.5 MB script (to render custom icons, of which
  the course has none) was each page's heaviest file, parsed on every page.
* No Thebe scripts: live code is not enabled, and sphinx-thebe declared
  ``THEBE_JS_URL`` twice on each page (a console error) and named a CDN.
* The light/dark mode starts as "auto" (an empty default was a console error).
* A plot a notebook draws gets alt text: without it the page said its file
  name ("../_images/c4eb...png") to a screen reader. A cell can still give
  its own (``mystnb: image: alt:`` in its metadata); otherwise the plot is
  named after the section it illustrates.
* In the workshop build (``mlecourse_hide_solutions``), a workbook page's
  launch buttons open, and its download buttons give, the exercises notebook:
  the solutions notebook they pointed at holds every answer the page hides.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes

TEMPLATES = Path(__file__).with_name("templates")


def configure(app, config) -> None:
    # Our templates first: static/webpack-macros.html wraps the theme's own.
    config.templates_path = [str(TEMPLATES), *config.templates_path]
    config.html_context.setdefault("default_mode", "auto")  # a template variable, not a theme option


def _thebe_enabled(app) -> bool:
    buttons = app.config.html_theme_options.get("launch_buttons", {}) or {}
    return bool(buttons.get("thebe"))


def drop_unused_scripts(app, pagename, templatename, context, doctree) -> None:
    if _thebe_enabled(app):
        return
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        name = str(getattr(script, "filename", script) or "")
        body = getattr(script, "attributes", {}).get("body", "")
        if "sphinx-thebe" in name or "THEBE_JS_URL" in body:
            continue
        if (name, body) in seen:  # sphinx-togglebutton's selector, registered twice
            continue
        seen.add((name, body))
        scripts.append(script)
    context["script_files"] = scripts
    context["css_files"] = [css for css in context.get("css_files", [])
                            if "sphinx-thebe" not in str(getattr(css, "filename", css))]


def _in_output(node) -> bool:
    parent = node.parent
    while parent is not None:
        if "cell_output" in parent.get("classes", []):
            return True
        parent = parent.parent
    return False


def _section_title(node) -> str:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.section) and parent.children and isinstance(parent[0], nodes.title):
            return parent[0].astext()
        parent = parent.parent
    return ""


def name_plots(app, doctree, docname) -> None:
    counts: dict[str, int] = {}
    for image in doctree.findall(nodes.image):
        if image.get("alt") or not _in_output(image):
            continue
        title = _section_title(image) or "this page"
        counts[title] = counts.get(title, 0) + 1
        number = f" ({counts[title]})" if counts[title] > 1 else ""
        image["alt"] = f"Plot for “{title}”{number}, drawn by the code above"


def _workbook(app, pagename: str) -> str | None:
    """The exercises twin of a workbook page, in the workshop build only."""
    if not app.config.mlecourse_hide_solutions or not pagename.startswith("solutions/"):
        return None
    twin = Path(app.srcdir) / "exercises" / (pagename.split("/", 1)[1] + ".ipynb")
    return twin if twin.exists() else None


def launch_exercises(app, pagename, templatename, context, doctree) -> None:
    if _workbook(app, pagename) is None:
        return
    solution, exercise = f"{pagename}.ipynb", f"exercises/{pagename.split('/', 1)[1]}.ipynb"
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            for button in group.get("buttons", []):
                if "url" in button:
                    button["url"] = button["url"].replace(solution, exercise)


def download_exercises(app, exception) -> None:
    """The workshop build's downloadable notebook of a workbook page is its exercises twin."""
    if exception or app.builder.format != "html":
        return
    for docname in app.env.found_docs:
        twin = _workbook(app, docname)
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        if twin is not None and target.exists():
            shutil.copyfile(twin, target)


def setup(app):
    app.connect("config-inited", configure)
    app.connect("doctree-resolved", name_plots)
    app.connect("html-page-context", drop_unused_scripts, priority=900)
    app.connect("html-page-context", launch_exercises, priority=900)
    app.connect("build-finished", download_exercises)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
