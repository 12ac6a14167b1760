"""``make slides``: one slide deck per chapter, made from the chapter itself.

Each deck is a single HTML file that opens offline in any browser (no CDN,
no server; plots embedded, styles inline): a title slide with the timing,
the chapter's questions and objectives (its metadata), then one slide per
section of the chapter with the section's opening sentence, the small code
cell that carries its idea and the plot it draws, then the key points and the
exercises with their minutes (titles only). Keys: → or space next, ← back,
Home/End; printing gives one slide per page.

Plots and glued numbers come from the executed notebooks in the book's cache
(``make book`` or ``make test`` fill it; ``make slides`` runs the notebooks
it lacks). Nothing comes from solutions/: ``leaks`` checks every deck for
every solution line, as the workshop site's build does.

    python -m mlecourse.course.slides [--out DIR]
"""
from __future__ import annotations

import argparse
import ast
import base64
import html
import re
import sys
from pathlib import Path

import nbformat

from mlecourse.paths import ROOT

from . import plan

OUT = ROOT / "_build" / "slides"
MAX_CODE_LINES = 10  # a slide shows code the room can read from the back
GLUE = re.compile(r"\{glue(?::text)?\}`([\w-]+)(?::([^`]*))?`")
ROLE = re.compile(r"\{(?:term|doc|ref|numref)\}`([^`<]*?)(?:\s*<[^`]*>)?`")
CITE = re.compile(r"\s*\{cite(?::\w+)?\}`[^`]*`")


def executed(path: Path) -> nbformat.NotebookNode:
    """The notebook executed with its current code, from the book's cache."""
    from . import execute
    notebook = nbformat.read(path, as_version=4)
    with execute._cache() as cache:
        try:
            _, merged = cache.merge_match_into_notebook(notebook)
        except KeyError:
            raise FileNotFoundError(f"{path.name} is not in the book's cache: run `make slides` "
                                    "(it executes what the cache lacks)") from None
    return merged


def glued(notebook) -> dict[str, str]:
    """Every value the chapter glues into its prose, as its plain-text repr."""
    out = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            book = output.get("metadata", {}).get("scrapbook", {})
            data = output.get("data", {})
            text = data.get(book.get("mime_prefix", "") + "text/plain", data.get("text/plain"))
            if book.get("name") and text is not None:
                out[book["name"]] = text
    return out


def _format(value: str, spec: str | None) -> str:
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value.strip("'\"")
    if spec:
        try:
            return format(literal, spec)
        except (TypeError, ValueError):
            pass
    return str(literal)


def prose(text: str, values: dict[str, str]) -> str:
    """Markdown of the chapter as slide HTML: glued numbers filled in, roles reduced to words."""
    text = GLUE.sub(lambda m: _format(values.get(m[1], "…"), m[2]), text)
    text = CITE.sub("", ROLE.sub(lambda m: m[1].strip(), text))
    text = html.escape(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text), quote=False)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def first_sentence(markdown: str) -> str:
    """The section's opening sentence (its first paragraph's, skipping directives)."""
    for para in re.split(r"\n\s*\n", markdown):
        para = para.strip()
        if para and not para.startswith(("#", ":::", "```", "|", "!", "<", "- ", "* ", "1. ", "{figure", "{admon")):
            flat = " ".join(para.split())
            match = re.match(r"(.+?[.!?])(\s|$)", flat)
            return match[1] if match else flat
    return ""


def highlight(code: str) -> str:
    from pygments import highlight as pyg
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    return pyg(code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=True, style="friendly"))


def _image(cell) -> str | None:
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            return "data:image/png;base64," + data["image/png"].replace("\n", "")
        if "image/svg+xml" in data:
            svg = data["image/svg+xml"]
            svg = "".join(svg) if isinstance(svg, list) else svg
            return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return None


def _shown(cell) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    return cell.cell_type == "code" and not tags & {"remove-cell", "remove-input", "hide-cell", "hide-input"} \
        and "glue(" not in cell.source and cell.source.strip() != ""


def sections(notebook) -> list[dict]:
    """Per ``##`` or ``###`` heading: title, opening sentence, its small code cells, its first plot."""
    out: list[dict] = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                heading = re.match(r"^#{2,3} (.+)$", line)
                if heading:
                    out.append({"title": heading[1].strip(), "markdown": "", "code": [], "plot": None,
                                "plot_code": None})
                elif out:
                    out[-1]["markdown"] += line + "\n"
            continue
        if not out or not _shown(cell):
            continue
        section, image = out[-1], _image(cell)
        if image and section["plot"] is None:
            section["plot"], section["plot_code"] = image, cell.source
        section["code"].append(cell.source)
    return out


def _small(codes: list[str], plotted: str | None) -> str | None:
    """The code that carries the idea: the plot's own cell if short, else the shortest cell of
    at least two lines, trimmed to MAX_CODE_LINES."""
    if plotted and len(plotted.splitlines()) <= MAX_CODE_LINES:
        return plotted
    candidates = [c for c in codes if 2 <= len(c.strip().splitlines()) <= MAX_CODE_LINES
                  and not c.lstrip().startswith(("import ", "from "))]
    return min(candidates, key=lambda c: len(c.splitlines())) if candidates else None


def _list(items: list[str], values: dict[str, str]) -> str:
    return "<ul>" + "".join(f"<li>{prose(i, values)}</li>" for i in items) + "</ul>"


def _exercise_titles(stem: str) -> dict[str, str]:
    """Exercise id -> its title, from the workbook's exercise headings (never its solutions)."""
    path = ROOT / "exercises" / f"{stem}.ipynb"
    titles = {}
    for cell in (nbformat.read(path, as_version=4).cells if path.exists() else []):
        match = re.search(r"(?:\{exercise\}|#+ Exercise)\s*([\d.]+)\s*·\s*(.+)", cell.source)
        if cell.cell_type == "markdown" and match:
            titles[match[1]] = match[2].strip()
    return titles


def deck(chapter: plan.Chapter, notebook) -> str:
    """One chapter's slides, as a self-contained HTML page."""
    values = glued(notebook)
    number = int(chapter.path.stem[:2])
    slides = [f"<h1>{html.escape(chapter.title)}</h1><p class='sub'>Chapter {number} · "
              f"{chapter.teaching_minutes} min teaching · {chapter.exercise_minutes} min exercises</p>",
              f"<h2>Questions</h2>{_list(chapter.questions, values)}",
              f"<h2>Objectives</h2>{_list(chapter.objectives, values)}"]
    for section in sections(notebook):
        sentence, code = first_sentence(section["markdown"]), _small(section["code"], section["plot_code"])
        if not (sentence or code or section["plot"]):
            continue  # a heading with nothing under it to show
        body = f"<h2>{prose(section['title'], values)}</h2>"
        if sentence:
            body += f"<p class='lead'>{prose(sentence, values)}</p>"
        parts = []
        if code:
            parts.append(f"<pre class='code'>{highlight(code.strip())}</pre>")
        if section["plot"]:
            parts.append(f"<img src='{section['plot']}' alt='{html.escape(section['title'])}'>")
        if parts:
            body += f"<div class='row{' two' if len(parts) == 2 else ''}'>{''.join(parts)}</div>"
        slides.append(body)
    slides.append(f"<h2>Key points</h2>{_list(chapter.keypoints, values)}")
    titles = _exercise_titles(chapter.path.stem)
    rows = "".join(
        f"<tr><td>{e.id}</td><td>{html.escape(titles.get(e.id, ''))}</td><td>{e.minutes}"
        f"{f' + {e.review} review' if e.review else ''}</td>"
        f"<td>{'in the room' if e.id in chapter.in_room else 'homework'}</td></tr>" for e in chapter.exercises)
    slides.append(f"<h2>Exercises</h2><p>In <code>work/{chapter.path.name}</code>; "
                  f"<code>mlecourse hint {number}.1</code> when stuck.</p><table>{rows}</table>")
    return _page(f"{number}. {chapter.title}", slides)


STYLE = """
html,body{margin:0;height:100%;background:#fff;color:#1d2433;font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
section{box-sizing:border-box;height:100vh;padding:4vh 6vw;display:none;flex-direction:column;overflow:hidden}
section.on{display:flex}
h1{font-size:5.2vh;margin:22vh 0 2vh}h2{font-size:4.4vh;margin:0 0 2.5vh;color:#1a4f8b}
.sub{font-size:2.8vh;color:#555}p,li,td{font-size:2.7vh;line-height:1.4}li{margin:.6vh 0}
.lead{margin:0 0 2vh}code{background:#f1f3f6;padding:0 .2em;border-radius:3px}
.row{display:flex;gap:3vw;align-items:flex-start;min-height:0;flex:1}.row>*{min-width:0}
.row.two>pre{flex:0 0 42%}.row img{max-width:100%;max-height:62vh;object-fit:contain;flex:1}
pre.code{font-size:2.1vh;line-height:1.35;background:#f7f8fa;border:1px solid #e3e6ea;border-radius:6px;
padding:1.5vh 1.5vw;margin:0;white-space:pre-wrap;overflow:hidden}
table{border-collapse:collapse}td{border-bottom:1px solid #ddd;padding:.6vh 1vw}
.count{position:fixed;right:2vw;bottom:1.5vh;font-size:1.8vh;color:#888}
@media print{section{display:flex!important;page-break-after:always;height:100vh}.count{display:none}}
"""

SCRIPT = """
const s=[...document.querySelectorAll('section')],c=document.querySelector('.count');
let i=Math.min(Math.max(parseInt(location.hash.slice(1)||'1',10)-1,0),s.length-1);
function show(n){i=Math.min(Math.max(n,0),s.length-1);s.forEach((x,k)=>x.classList.toggle('on',k===i));
c.textContent=(i+1)+' / '+s.length;history.replaceState(null,'','#'+(i+1));}
document.addEventListener('keydown',e=>{if(['ArrowRight','PageDown',' '].includes(e.key))show(i+1);
else if(['ArrowLeft','PageUp'].includes(e.key))show(i-1);else if(e.key==='Home')show(0);
else if(e.key==='End')show(s.length-1);});
document.addEventListener('click',e=>{if(!e.target.closest('a'))show(e.clientX>innerWidth/3?i+1:i-1);});
show(i);
"""


def _page(title: str, slides: list[str]) -> str:
    body = "\n".join(f"<section>{s}</section>" for s in slides)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{STYLE}</style></head>"
            f"<body>{body}<div class='count'></div><script>{SCRIPT}</script></body></html>\n")


def index(decks: list[tuple[str, plan.Chapter]]) -> str:
    items = "".join(f"<li><a href='{name}'>{int(ch.path.stem[:2])}. {html.escape(ch.title)}</a></li>"
                    for name, ch in decks)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Slides</title>"
            f"<style>body{{font-family:system-ui,sans-serif;margin:3rem;line-height:1.6}}</style></head><body>"
            f"<h1>Slides, one deck per chapter</h1><p>→ or space: next slide; ←: back. They open "
            f"offline.</p><ul>{items}</ul></body></html>\n")


def build(out: Path = OUT, chapters: list[plan.Chapter] | None = None) -> list[Path]:
    """Write every chapter's deck and an index into ``out``; returns the decks."""
    chosen = chapters if chapters is not None else plan.chapters()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in chosen:
        path = out / f"{chapter.path.stem}.html"
        path.write_text(deck(chapter, executed(chapter.path)))
        written.append(path)
    (out / "index.html").write_text(index([(p.name, c) for p, c in zip(written, chosen)]))
    return written


def leaks(out: Path = OUT) -> list[str]:
    """Solution lines or check messages anywhere in the decks (the workshop site's test)."""
    from . import workshop_build
    return workshop_build.leaks(out, workshop_build.check_messages(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.course.slides", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from . import execute
    failed = [r for r in execute.execute_missing([c.path for c in plan.chapters()]) if r.error]
    if failed:
        print(f"error: {failed[0].error}", file=sys.stderr)
        return 1
    decks = build(args.out)
    found = leaks(args.out)
    if found:
        print(f"error: a deck gives an answer away: {found[0]}", file=sys.stderr)
        return 1
    print(f"{len(decks)} decks in {args.out}; open file://{args.out / 'index.html'} (no network needed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
