"""Two app servers on one PostgreSQL database search the same, current documents.

Each server runs gunicorn with its own (empty) SEARCH_INDEX_DIR, as on two machines.
A change committed through one is found by a search through the other within a
second, and `flask search check` finds no drift. Where the engine is Whoosh on
PostgreSQL, start-up warns that its index is per machine."""
from __future__ import annotations

import os
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select

from tests.answer_files import answer
from tests.apps import ROOT
from tests.pages import result_links
from tests.servers import gunicorn
from webapp.answers.models import Question
from webapp.extensions import db

FLASK = ROOT / ".venv" / "bin" / "flask"

pytestmark = pytest.mark.skipif(not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"),
                                reason="two app servers share a PostgreSQL database (TEST_DATABASE_URL)")


def found(server, q: str) -> list[str]:
    url = f"{server.url}/search?{urllib.parse.urlencode({'q': q})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return result_links(response.read().decode())



def flask(app, *args: str, **settings: str) -> subprocess.CompletedProcess:
    """A command on one of the servers' machines (the same settings as that server)."""
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "x", **settings}
    return subprocess.run([str(FLASK), "--app", "webapp", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def two_servers(demo, tmp_path):
    url = demo.config["SQLALCHEMY_DATABASE_URI"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with gunicorn(tmp_path / "a", url, workers=1) as a, gunicorn(tmp_path / "b", url, workers=1) as b:
        yield a, b


# The documents are written in the committing transaction: the first search after the
# commit finds the change through either server, with no waiting (bench/two_servers.py
# measures how long that takes; a bound on the clock here failed on a loaded machine).
def test_an_import_through_one_server_is_found_through_the_other_at_once(demo, two_servers, tmp_path):
    a, b = two_servers
    assert found(b, "quokkas") == []
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "quokka.md").write_text(answer("quokka-smile", "Do quokkas really smile at people?"))
    result = flask(demo, "content", "import", str(folder), SEARCH_INDEX_DIR=str(tmp_path / "a" / "search_index"))
    assert result.returncode == 0, result.stderr
    assert found(b, "quokkas") == ["/q/quokka-smile"]
    assert found(a, "quokkas") == ["/q/quokka-smile"]
    check = flask(demo, "search", "check", SEARCH_INDEX_DIR=str(tmp_path / "b" / "search_index"))
    assert check.returncode == 0 and "the index matches the database" in check.stdout, check.stdout + check.stderr


def test_an_edit_committed_elsewhere_is_found_by_both_servers(demo, two_servers):
    a, b = two_servers
    with demo.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == "why-is-the-sky-blue"))
        question.summary = "Now also about narwhals [1]."
        db.session.commit()
    for server in (a, b):
        assert found(server, "narwhals") == ["/q/why-is-the-sky-blue"]


def test_whoosh_on_postgresql_warns_that_its_index_is_per_machine(demo, tmp_path):
    with gunicorn(tmp_path, demo.config["SQLALCHEMY_DATABASE_URI"], workers=1, SEARCH_ENGINE="whoosh") as server:
        assert found(server, "rayleigh") is not None  # the first request runs the start-up check
        time.sleep(0.2)
        assert "is on this machine only" in server.output()
    with gunicorn(tmp_path, demo.config["SQLALCHEMY_DATABASE_URI"], workers=1) as server:
        found(server, "rayleigh")
        assert "is on this machine only" not in server.output()
