"""`mlecourse collect` shows the room's progress: attendees send `progress --send` on
loopback, the instructor's page lists each of them; the server takes only a small,
strict payload, renders nothing of it as HTML and keeps nothing but the table."""
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from mlecourse.checks import registry
from mlecourse.course import cli, collect

IDS = sorted(i for i in registry() if i.startswith("2."))


def rows(outcomes):
    return [{"chapter": "02", "exercise": i, "outcome": o, "message": "secret message " + i}
            for i, o in zip(IDS, outcomes)]


@pytest.fixture
def server():
    server, room = collect.serve("127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_address[1]}", room
    server.shutdown()
    server.server_close()


def get(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode("utf-8")


def post(url, body: bytes):
    request = urllib.request.Request(url + "/progress", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_three_attendees_at_once_fill_the_instructor_s_table(server):
    url, room = server
    room_of = {"Ada": ["correct"] * len(IDS),
               "Grace H.": ["correct", "incorrect"] + ["not attempted"] * (len(IDS) - 2),
               "Linus_2": ["incorrect", "incorrect"] + ["not attempted"] * (len(IDS) - 2)}
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda item: collect.send(url, item[0], rows(item[1])), room_of.items()))
    assert all(a.startswith("thanks ") for a in answers), answers
    table = json.loads(get(url + "/table.json"))["attendees"]
    assert set(table) == set(room_of)
    for name, outcomes in room_of.items():
        assert table[name] == dict(zip(IDS, outcomes))
    page = get(url + "/")
    assert all(name in page for name in room_of) and f"Most stuck: {IDS[1]} (2 ✗)" in page
    assert "secret message" not in page + json.dumps(room.snapshot())  # messages are not kept
    collect.send(url, "Linus_2", rows(["correct"] * len(IDS)))  # a second send updates the row
    assert json.loads(get(url + "/table.json"))["attendees"]["Linus_2"][IDS[0]] == "correct"


def test_the_command_line_sends_a_real_progress_run(server, tmp_path, capsys):
    url, _ = server
    assert cli.main(["--work", str(tmp_path), "start", "--no-lab"]) == 0
    assert cli.main(["--work", str(tmp_path), "progress", "2", "--quiet", "--send", url, "--name", "Margaret"]) == 0
    assert "thanks Margaret" in capsys.readouterr().out
    sent = json.loads(get(url + "/table.json"))["attendees"]["Margaret"]
    assert set(sent) == set(IDS) and set(sent.values()) == {"not attempted"}  # fresh copies
    assert cli.main(["--work", str(tmp_path), "progress", "2", "--quiet", "--send", url]) == 2
    assert "--name" in capsys.readouterr().err


@pytest.mark.parametrize("body,reason", [
    (b"not json", "not JSON"),
    (json.dumps({"name": "Ada"}).encode(), "'name' and 'exercises'"),
    (json.dumps({"name": "<script>alert(1)</script>", "exercises": rows(["correct"])}).encode(), "a name is"),
    (json.dumps({"name": "Ada", "exercises": rows(["correct"]), "code": "import os"}).encode(), "'name' and"),
    (json.dumps({"name": "Ada", "exercises": [{**rows(["correct"])[0], "extra": "x"}]}).encode(), "exactly"),
    (json.dumps({"name": "Ada", "exercises": [{**rows(["correct"])[0], "exercise": "99.9"}]}).encode(),
     "no exercise"),
    (json.dumps({"name": "Ada", "exercises": [{**rows(["correct"])[0], "outcome": "done"}]}).encode(),
     "an outcome is"),
    (json.dumps({"name": "Ada", "exercises": []}).encode(), "list of 1 to"),
])
def test_a_payload_outside_the_schema_is_refused_and_nothing_is_stored(server, body, reason):
    url, room = server
    status, text = post(url, body)
    assert status == 400 and reason in text and len(text.strip().splitlines()) == 1
    assert room.snapshot()["attendees"] == {}


def test_a_payload_over_the_limit_is_refused_before_it_is_read(server):
    url, room = server
    status, text = post(url, b"x" * (collect.MAX_BYTES + 1))
    assert status == 413 and room.snapshot()["attendees"] == {}


def test_an_unreachable_instructor_gets_one_line():
    with pytest.raises(ValueError, match="cannot reach"):
        collect.send("http://127.0.0.1:9", "Ada", rows(["correct"]), timeout=2)
