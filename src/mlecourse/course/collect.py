"""``mlecourse collect``: the room's progress on the instructor's laptop, with no internet.

The instructor runs ``mlecourse collect`` on the room's network (a hotspot or
the venue's router is enough: nothing leaves the room). Each attendee runs::

    mlecourse progress 3 --send http://<instructor's address>:8765 --name "Ada"

which runs their workbooks as ``mlecourse progress`` does and sends the
result. The instructor's browser shows ``http://127.0.0.1:8765/``: one row
per attendee, one column per exercise, ✓ ○ ✗, refreshed every few seconds,
with the exercises most of the room is stuck on first.

What the server accepts is small and strict: a JSON object of a name (the
attendee's choice: letters, digits, spaces, ``.-_'``, up to 40 characters)
and a list of ``{chapter, exercise, outcome, message}`` rows whose exercise
is one of the course's and whose outcome is one of three words; at most 64 KB.
Anything else is refused with a one-line reason. Nothing an attendee sends is
executed or rendered as HTML, and only the table (name -> exercise ->
outcome, and when it was sent) is kept, in memory: messages are not stored.
"""
from __future__ import annotations

import argparse
import html
import json
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BYTES = 64 * 1024
MAX_ROWS = 400  # more than the course's exercises
MAX_ATTENDEES = 200
NAME = re.compile(r"^[\w .'\-]{1,40}$")
OUTCOMES = ("correct", "not attempted", "incorrect")
ICONS = {"correct": "✓", "not attempted": "○", "incorrect": "✗"}
ROW_KEYS = {"chapter", "exercise", "outcome", "message"}
PORT = 8765


class Refused(ValueError):
    """A payload the server will not take; the message says why, in one line."""


def known_exercises() -> set[str]:
    from mlecourse.checks import registry
    return set(registry())


def validate(payload: object, known: set[str]) -> tuple[str, dict[str, str]]:
    """The attendee's name and ``exercise -> outcome``, or ``Refused``."""
    if not isinstance(payload, dict) or set(payload) - {"name", "exercises", "work"} \
            or not {"name", "exercises"} <= set(payload):
        raise Refused("send an object with 'name' and 'exercises' (what `mlecourse progress --json` prints)")
    name = payload["name"]
    if not isinstance(name, str) or not NAME.match(name) or not name.strip():
        raise Refused("a name is 1 to 40 letters, digits, spaces or .-_'")
    rows = payload["exercises"]
    if not isinstance(rows, list) or not 0 < len(rows) <= MAX_ROWS:
        raise Refused(f"'exercises' is a list of 1 to {MAX_ROWS} rows")
    table: dict[str, str] = {}
    for row in rows:
        if not isinstance(row, dict) or set(row) != ROW_KEYS or not all(isinstance(v, str) for v in row.values()):
            raise Refused(f"each row has exactly {', '.join(sorted(ROW_KEYS))}, as text")
        if row["exercise"] not in known:
            raise Refused(f"no exercise {row['exercise'][:10]!r} in this course")
        if row["outcome"] not in OUTCOMES:
            raise Refused(f"an outcome is one of {', '.join(OUTCOMES)}")
        table[row["exercise"]] = row["outcome"]
    return name.strip(), table


class Room:
    """The table: name -> exercise -> outcome, and when each attendee last sent."""

    def __init__(self, known: set[str]):
        self.known = known
        self.table: dict[str, dict[str, str]] = {}
        self.sent: dict[str, float] = {}
        self.lock = threading.Lock()

    def take(self, body: bytes) -> str:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Refused("the body is not JSON") from None
        name, outcomes = validate(payload, self.known)
        with self.lock:
            if name not in self.table and len(self.table) >= MAX_ATTENDEES:
                raise Refused(f"the room is full ({MAX_ATTENDEES} names)")
            self.table.setdefault(name, {}).update(outcomes)
            self.sent[name] = time.time()
        done = sum(o == "correct" for o in outcomes.values())
        return f"thanks {name}: {done} of {len(outcomes)} correct, received"

    def snapshot(self) -> dict:
        with self.lock:
            return {"attendees": {n: dict(t) for n, t in sorted(self.table.items(), key=lambda i: i[0].lower())},
                    "sent": {n: time.strftime("%H:%M:%S", time.localtime(t)) for n, t in self.sent.items()}}


def _sort_key(exercise: str) -> tuple[int, ...]:
    return tuple(int(p) for p in exercise.split("."))


def page(snapshot: dict, refresh: int = 5) -> str:
    """The live table: the exercises most attendees are stuck on (✗) first."""
    people = snapshot["attendees"]
    seen = sorted({e for t in people.values() for e in t}, key=_sort_key)
    stuck = {e: sum(t.get(e) == "incorrect" for t in people.values()) for e in seen}
    done = {e: sum(t.get(e) == "correct" for t in people.values()) for e in seen}
    worst = [e for e in sorted(seen, key=lambda e: (-stuck[e], _sort_key(e))) if stuck[e]][:5]
    esc = html.escape
    head = "".join(f"<th>{esc(e)}</th>" for e in seen)
    rows = "".join(
        f"<tr><th>{esc(n)}</th>" + "".join(
            f"<td class='{t.get(e, 'none').replace(' ', '-')}'>{ICONS.get(t.get(e), '')}</td>" for e in seen)
        + f"<td>{esc(snapshot['sent'].get(n, ''))}</td></tr>" for n, t in people.items())
    totals = "".join(f"<td>{done[e]} ✓ {stuck[e]} ✗</td>" for e in seen)
    summary = ("Most stuck: " + ", ".join(f"{esc(e)} ({stuck[e]} ✗)" for e in worst)) if worst else \
        "Nobody is stuck on a checked exercise."
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{refresh}"><title>Progress in the room</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:center}}th{{background:#f4f4f4}}
td.correct{{background:#d9f2d9}}td.incorrect{{background:#f8d0d0}}td.not-attempted{{background:#fff}}</style>
</head><body><h1>Progress in the room</h1><p>{len(people)} attendee(s). {summary}</p>
<table><thead><tr><th>Name</th>{head}<th>Sent at</th></tr></thead><tbody>{rows}
<tr><th>Room</th>{totals}<td></td></tr></tbody></table>
<p>✓ correct ○ not attempted ✗ incorrect. Refreshes every {refresh} s. Names are the attendees' choice;
nothing but this table is kept, and only while <code>mlecourse collect</code> runs.</p></body></html>"""


def handler(room: Room):
    class Handler(BaseHTTPRequestHandler):
        server_version = "mlecourse-collect"

        def _reply(self, code: int, body: str, kind: str = "text/plain; charset=utf-8") -> None:
            data = body.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 (the stdlib's name)
            if self.path in ("/", "/index.html"):
                self._reply(200, page(room.snapshot()), "text/html; charset=utf-8")
            elif self.path == "/table.json":
                self._reply(200, json.dumps(room.snapshot(), ensure_ascii=False), "application/json")
            else:
                self._reply(404, "not found: the table is at /\n")

        def do_POST(self):  # noqa: N802
            if self.path != "/progress":
                return self._reply(404, "send progress to /progress\n")
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return self._reply(411, "say how long the body is (Content-Length)\n")
            if not 0 < length <= MAX_BYTES:
                return self._reply(413, f"at most {MAX_BYTES // 1024} KB, please\n")
            body = self.rfile.read(length)
            try:
                self._reply(200, room.take(body) + "\n")
            except Refused as err:
                self._reply(400, f"refused: {err}\n")

        def log_message(self, format, *args):  # one quiet line per request, to the instructor's terminal
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def serve(host: str = "0.0.0.0", port: int = PORT, known: set[str] | None = None) -> tuple[ThreadingHTTPServer, Room]:
    """A running server in a background thread, and its room (tests and ``main``)."""
    room = Room(known if known is not None else known_exercises())
    server = ThreadingHTTPServer((host, port), handler(room))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, room


def send(url: str, name: str, rows: list[dict], timeout: float = 10) -> str:
    """POST an attendee's rows (``progress --json``'s ``exercises``); the server's answer, one line."""
    body = json.dumps({"name": name, "exercises": rows}, ensure_ascii=False).encode("utf-8")
    target = url.rstrip("/") + "/progress"
    if not target.startswith(("http://", "https://")):
        raise ValueError(f"{url!r} is not an address like http://192.168.1.10:{PORT}")
    request = urllib.request.Request(target, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.read().decode("utf-8").strip()
    except urllib.error.HTTPError as err:
        raise ValueError(f"the instructor's laptop said: {err.read().decode('utf-8', 'replace').strip()}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ValueError(f"cannot reach {url} ({reason}): check the address the instructor gave, "
                         "and that you are on the room's network") from None


def addresses() -> list[str]:
    """This laptop's IPv4 addresses other than loopback, to tell the room."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({i[4][0] for i in infos if not i[4][0].startswith("127.")})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlecourse collect", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: every interface)")
    parser.add_argument("--port", type=int, default=PORT, help=f"port (default {PORT})")
    args = parser.parse_args(argv)
    try:
        server, _ = serve(args.host, args.port)
    except OSError as err:
        print(f"mlecourse collect: cannot listen on {args.host}:{args.port} ({err.strerror}): "
              "try another --port", file=sys.stderr)
        return 2
    port = server.server_address[1]
    print(f"Collecting progress on port {port}. Your table: http://127.0.0.1:{port}/")
    for address in addresses() or ["<this laptop's address on the room's network>"]:
        print(f"Attendees run: mlecourse progress NN --send http://{address}:{port} --name \"their name\"")
    print("Nothing is written to disk; Ctrl-C stops it (and the table is gone).")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
        print("\nStopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
