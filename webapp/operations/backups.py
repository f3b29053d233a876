"""`flask db backup PATH` and `flask db restore PATH`: the whole database in one file.

SQLite: the online backup API, from inside one read transaction, so the copy is the
database as one moment saw it (WAL included) while the site goes on reading and
writing; without that transaction every write made between two steps would restart
the copy. PostgreSQL: `pg_dump --format=custom` and `pg_restore`, connected with the
settings' URL in libpq form (the password in PGPASSWORD, never on a command line).

A backup is written to a temporary file beside PATH and renamed when complete, so PATH
is always either the previous backup or a whole new one. A restore puts the backup's
data in place of the database's, brings its schema up to this version's migrations,
rebuilds the search documents from the restored rows, and checks that the pledge
counters agree with the pledges."""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from alembic import command as alembic
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from webapp.answers.models import Question
from webapp.database import analyze
from webapp.extensions import db
from webapp.support import pledges

SQLITE_HEADER = b"SQLite format 3\x00"
PGDUMP_HEADER = b"PGDMP"
# Pages copied per step of the SQLite backup (4 MB at the default page size): the
# progress bar moves between steps; the read transaction keeps the copy consistent.
STEP_PAGES = 1024
BUSY_TIMEOUT_S = 5.0

# progress(label, total) -> a context manager whose value has .update(n), as
# click.progressbar has; the default shows nothing.
Progress = Callable[[str, int], Any]


class _Silent:
    def update(self, n: int) -> None:
        pass


def silent(_label: str, _total: int):
    return nullcontext(_Silent())


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


# --- what a database and a backup hold -----------------------------------------------------

def holdings(engine: Engine) -> dict[str, int]:
    """Rows per table of the application's tables that exist and are not empty."""
    present = set(inspect(engine).get_table_names())
    counts = {}
    with engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if table.name in present:
                rows = connection.scalar(select(func.count()).select_from(table)) or 0
                if rows:
                    counts[table.name] = rows
    return counts


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {rows}" for table, rows in counts.items()) or "no rows"


@dataclass
class BackupFile:
    path: Path
    kind: str  # "sqlite" | "postgresql"
    revision: str | None  # the migration it was taken at (alembic_version), if any
    details: list[str] = field(default_factory=list)  # what it holds, for the operator


def _sqlite_readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)


def read_backup(path: Path) -> BackupFile:
    """Check that `path` is a backup this command can restore, and say what it holds."""
    if not path.exists():
        raise BackupError(f"{path}: no such file")
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        with path.open("rb") as opened:
            header = opened.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"{path}: cannot read it ({error.strerror})") from None
    if header.startswith(SQLITE_HEADER):
        return _read_sqlite_backup(path)
    if header.startswith(PGDUMP_HEADER):
        return _read_pg_backup(path)
    raise BackupError(f"{path} is neither an SQLite database nor a pg_dump custom-format file")


def _read_sqlite_backup(path: Path) -> BackupFile:
    try:
        connection = _sqlite_readonly(path)
        try:
            if (problem := connection.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise BackupError(f"{path} is damaged: {problem}")
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = (connection.execute("SELECT version_num FROM alembic_version").fetchone() or [None])[0] \
                if "alembic_version" in tables else None
            counts = {t.name: connection.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
                      for t in db.metadata.sorted_tables if t.name in tables}
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be read as an SQLite database: {error}") from None
    if "question" not in counts:
        raise BackupError(f"{path} is an SQLite database, but not a Plumb one (it has no question table)")
    return BackupFile(path, "sqlite", revision, [describe({k: v for k, v in counts.items() if v})])


def _read_pg_backup(path: Path) -> BackupFile:
    listing = _tool_output(["pg_restore", "--list", str(path)])
    details = [line.lstrip("; ").strip() for line in listing.splitlines()
               if line.startswith(";") and re.search(r"Archive created at|dbname:|Dumped from database version", line)]
    # The one row of alembic_version, as pg_restore would load it (a COPY block).
    data = _tool_output(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)])
    revision = None
    if match := re.search(r"^COPY \S*alembic_version .*FROM stdin;\n([^\n\\]+)\n", data, re.M):
        revision = match.group(1).strip()
    return BackupFile(path, "postgresql", revision, details)


# --- backing up ----------------------------------------------------------------------------

def backup(engine: Engine, target: Path, progress: Progress = silent) -> Path:
    """Write the whole database to `target` (replaced whole, or left as it was)."""
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give a file name, such as {target / 'plumb.backup'}")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    if engine.dialect.name == "sqlite":
        source = _sqlite_path(engine.url)
        if target.resolve() == source.resolve():
            raise BackupError(f"{target} is the database itself: give another file")
        write = lambda partial: _sqlite_backup(source, partial, progress)  # noqa: E731
    elif engine.dialect.name == "postgresql":
        _check_pg_dump(engine)
        write = lambda partial: _pg_dump(engine, partial, progress)  # noqa: E731
    else:
        raise BackupError(f"backing up {engine.dialect.name} databases is not supported")
    with _partial_file(target) as partial:
        write(partial)
    return target


@contextmanager
def _partial_file(target: Path) -> Iterator[Path]:
    """A temporary file beside `target`, renamed to it if the block succeeds (and
    flushed to disk first, so a crash right after leaves a whole file), else deleted."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as error:
        raise BackupError(f"cannot write in {target.parent}: {error.strerror}") from None
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass  # not every file system can sync a folder; the file itself is synced


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory: there is nothing on disk to back up or restore")
    return Path(url.database)


def _copy_pages(source: sqlite3.Connection, target: sqlite3.Connection, total: int, label: str,
                progress: Progress) -> None:
    with progress(label, total) as bar:
        done = 0

        def moved(_status, remaining, pages):
            nonlocal done
            bar.update(pages - remaining - done)
            done = pages - remaining

        source.backup(target, pages=STEP_PAGES, progress=moved)


def _sqlite_backup(database: Path, partial: Path, progress: Progress) -> None:
    if not database.exists():
        raise BackupError(f"{database}: no such database file")
    try:
        # mode=rw: never create an empty database where the real one was expected.
        source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True,
                                 timeout=BUSY_TIMEOUT_S, isolation_level=None)
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            # One read transaction over every step: the copy is one snapshot, and
            # writers (which WAL lets go on) neither wait for it nor restart it.
            source.execute("BEGIN")
            total = source.execute("PRAGMA page_count").fetchone()[0]
            _copy_pages(source, target, total, "Backing up", progress)
            source.execute("COMMIT")
            # One self-contained file: no -wal beside it when it is opened.
            target.execute("PRAGMA journal_mode=DELETE")
            if (problem := target.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise BackupError(f"the copy failed its check ({problem}); the database may be damaged")
        finally:
            source.close()
            target.close()
    except sqlite3.Error as error:
        raise BackupError(f"backing up {database} failed: {error}") from None


# --- PostgreSQL's tools ----------------------------------------------------------------------

def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as a libpq connection string, and the environment that carries
    its password (so that it never shows on a command line)."""
    params: dict[str, Any] = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    for name, value in url.query.items():  # sslmode, a socket folder as host=..., options...
        params[name] = value[-1] if isinstance(value, tuple) else value

    def quoted(value) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    conninfo = " ".join(f"{name}={quoted(value)}" for name, value in params.items() if value not in (None, ""))
    return conninfo, ({"PGPASSWORD": url.password} if url.password else {})


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found on PATH: install PostgreSQL's client programs "
                          f"(Debian: apt-get install postgresql-client) in the server's major version or newer")
    return found


def _environment(extra: dict[str, str]) -> dict[str, str]:
    # English messages: the progress bar reads pg_dump's and pg_restore's --verbose lines.
    return {**os.environ, **extra, "LC_MESSAGES": "C", "LC_ALL": "C"}


def _tool_output(arguments: list[str]) -> str:
    completed = subprocess.run([_tool(arguments[0]), *arguments[1:]], capture_output=True, text=True,
                               env=_environment({}))
    if completed.returncode != 0:
        raise BackupError(f"{arguments[0]} cannot read {arguments[-1]}: {_problems(completed.stderr)}")
    return completed.stdout


def major_version(text_version: str) -> int:
    """16 from "pg_dump (PostgreSQL) 16.4 (Debian 16.4-1)" or from "16.4"."""
    match = re.search(r"(?:\(PostgreSQL\)\s*)?(\d+)", text_version)
    if match is None:
        raise BackupError(f"cannot read a version in {text_version!r}")
    return int(match.group(1))


def check_versions(server_major: int, tool_major: int, tool: str = "pg_dump") -> None:
    if server_major > tool_major:
        raise BackupError(f"the server runs PostgreSQL {server_major} but {tool} is from PostgreSQL {tool_major}, "
                          f"which cannot dump it: install postgresql-client-{server_major} "
                          f"(or put its bin folder first on PATH)")


def _check_pg_dump(engine: Engine) -> None:
    tool = _tool("pg_dump")
    version = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
    with engine.connect() as connection:
        server = int(connection.scalar(text("SHOW server_version_num")))
    check_versions(server // 10000, major_version(version))


def _problems(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines()
             if re.search(r"error|fatal|warning|detail|hint|could not|unsupported", line, re.I)]
    return "; ".join(lines[:8]) or stderr.strip()[-500:] or "no message"


def _run_tool(arguments: list[str], env: dict[str, str], label: str, total: int, marker: str,
              progress: Progress) -> None:
    """Run pg_dump or pg_restore with --verbose, moving the bar a step per table's data."""
    with progress(label, total) as bar, subprocess.Popen(
            arguments, env=_environment(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as run:
        said = []
        for line in run.stderr:
            if marker in line:
                bar.update(1)
            else:
                said.append(line)
    if run.returncode != 0:
        raise BackupError(f"{Path(arguments[0]).name} failed: {_problems(''.join(said))}")


def _pg_dump(engine: Engine, partial: Path, progress: Progress) -> None:
    conninfo, env = libpq(engine.url)
    with engine.connect() as connection:
        tables = connection.scalar(text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'"))
    engine.dispose()
    _run_tool([_tool("pg_dump"), "--format=custom", "--verbose", f"--file={partial}", f"--dbname={conninfo}"],
              env, "Backing up", tables, "dumping contents of table", progress)


# A dump's entries for extensions: "12; 3079 16385 EXTENSION - rum" and its COMMENT.
EXTENSION_ENTRY = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )(\S+)")


def _ensure_extensions(engine: Engine, names: set[str]) -> None:
    """Create the extensions the dump has that the database lacks. They are left out of
    pg_restore's work: --clean would drop them and create them again, which only a
    superuser may do for `rum`, and the site's own database user need not be one."""
    with engine.connect() as connection:
        present = set(connection.scalars(text("SELECT extname FROM pg_extension")))
        for name in sorted(names - present):
            try:
                connection.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}"'))
                connection.commit()
            except DBAPIError as error:
                raise BackupError(f"the backup needs the extension {name}, which this database lacks and "
                                  f"{engine.url.username or 'this user'} may not create "
                                  f"({str(error.orig).strip().splitlines()[0]}): a superuser must run "
                                  f"CREATE EXTENSION {name}; in database {engine.url.database} "
                                  f"(docs/search.md, Installing it)") from None


def _pg_restore(engine: Engine, source: Path, progress: Progress) -> None:
    conninfo, env = libpq(engine.url)
    entries = _tool_output(["pg_restore", "--list", str(source)]).splitlines()
    _ensure_extensions(engine, {match.group(1) for line in entries if (match := EXTENSION_ENTRY.match(line))})
    tables = sum(" TABLE DATA " in line for line in entries)
    # Our own idle connections would hold the locks that --clean's DROPs wait for.
    db.session.remove()
    engine.dispose()
    with tempfile.NamedTemporaryFile("w", prefix="plumb-restore-", suffix=".list") as chosen:
        chosen.write("\n".join(line for line in entries if not EXTENSION_ENTRY.match(line)) + "\n")
        chosen.flush()
        # One transaction: the database is either restored whole or left as it was.
        _run_tool([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                   "--exit-on-error", "--verbose", f"--use-list={chosen.name}", f"--dbname={conninfo}", str(source)],
                  env, "Restoring", tables, "processing data for table", progress)


# --- restoring -------------------------------------------------------------------------------

def restore(engine: Engine, backup_file: BackupFile, progress: Progress = silent) -> None:
    """Put the backup's data in place of the database's (nothing else: see `restore_command`)."""
    if backup_file.kind != engine.dialect.name:
        raise BackupError(f"{backup_file.path} is a {backup_file.kind} backup and the database is "
                          f"{engine.dialect.name}: restore it into a {backup_file.kind} database")
    if engine.dialect.name == "postgresql":
        _pg_restore(engine, backup_file.path, progress)
        with engine.begin() as connection:
            analyze(connection)  # pg_restore leaves the planner without statistics
    else:
        _sqlite_restore(backup_file.path, _sqlite_path(engine.url), engine, progress)
    engine.dispose()  # no pooled connection keeps what it knew of the old database


def _sqlite_restore(source_path: Path, database: Path, engine: Engine, progress: Progress) -> None:
    if not database.parent.is_dir():
        raise BackupError(f"{database.parent}: no such folder for the database")
    db.session.remove()
    engine.dispose()
    try:
        source = _sqlite_readonly(source_path)
        target = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            total = source.execute("PRAGMA page_count").fetchone()[0]
            # Into the live file through SQLite: one write transaction, so other
            # connections see the old database or the new one, never half of each.
            _copy_pages(source, target, total, "Restoring", progress)
        finally:
            source.close()
            target.close()
    except sqlite3.Error as error:
        raise BackupError(f"restoring into {database} failed: {error}") from None


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def check_revision(backup_file: BackupFile) -> None:
    """Refuse a backup taken by a newer Plumb: this version's code cannot run its schema."""
    if backup_file.revision is None:
        return
    try:
        _scripts().get_revision(backup_file.revision)
    except CommandError:
        raise BackupError(f"{backup_file.path} was taken at migration {backup_file.revision!r}, which this "
                          f"version of Plumb does not know: restore it with the version that made it") from None


def database_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.scalar(text("SELECT version_num FROM alembic_version"))


def upgrade_schema(engine: Engine) -> tuple[str | None, str | None]:
    """Run the migrations the restored schema lacks: (revision before, after). The rebuild
    and the checks read the rows through today's models, and the site cannot serve an
    older schema anyway."""
    before = database_revision(engine)
    if before is None or before in _scripts().get_heads():
        return before, before
    alembic.upgrade(current_app.extensions["migrate"].migrate.get_config(), "head")
    engine.dispose()
    return before, database_revision(engine)


def rebuild_search(progress: Progress) -> str:
    """Make the search documents true to the restored rows. PostgreSQL's came in the dump
    with the rows they describe: checked, and rebuilt only if they drifted. Whoosh's
    index is a folder outside the database: always rebuilt."""
    search = current_app.extensions["search"]
    if search.name == "postgres":
        try:
            drift = search.check()
        except Exception:  # noqa: BLE001 - whatever is wrong, a rebuild writes them anew
            drift = None
        if drift is not None and drift.clean:
            return "search documents came with the backup and match it"
    total = db.session.scalar(select(func.count()).select_from(Question)) or 0
    db.session.remove()
    with progress("Indexing", total) as bar:
        count = search.rebuild(procs=min(2, os.cpu_count() or 1), progress=bar.update)
    return f"search rebuilt from the restored database: {count} questions"


# --- the commands (added to Flask-Migrate's `flask db` group in webapp/cli.py) ---------------

def _bar(label: str, total: int):
    return click.progressbar(length=max(total, 1), label=label, file=sys.stderr)


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write the whole database to PATH (replacing it), while the site keeps serving.

    SQLite: a consistent copy through SQLite's online backup API. PostgreSQL: a
    `pg_dump --format=custom` file (pg_dump must be the server's major version or newer)."""
    try:
        backup(db.engine, path, _bar)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up {db.engine.url.render_as_string(hide_password=True)} to {path} "
               f"({path.stat().st_size:,} bytes)")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that holds data.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database with the backup in PATH, then migrate it to this version,
    rebuild the search documents and check the pledge counters (exit 1 if they disagree).

    Refuses to replace a database that holds data unless --yes is given."""
    engine = db.engine
    where = engine.url.render_as_string(hide_password=True)
    try:
        found = read_backup(path)
        check_revision(found)
        present = holdings(engine)
        if present and not yes:
            click.echo(f"{where} holds data that restoring would replace: {describe(present)}.")
            click.echo(f"{path} holds: {'; '.join(found.details) or 'a PostgreSQL dump'}.")
            raise click.ClickException("nothing was changed: run again with --yes to replace the database")
        restore(engine, found, _bar)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {where} from {path}: {describe(holdings(engine))}")

    try:
        before, after = upgrade_schema(engine)
    except Exception as error:  # noqa: BLE001 - the operator must read it; the data is in place
        raise click.ClickException(f"the data is restored at migration {database_revision(engine)}, but upgrading "
                                   f"it failed: {error}. Fix that and run `flask db upgrade`, then "
                                   f"`flask search rebuild` and `flask support check`") from None
    if before is None:
        click.echo("the backup records no migration revision: check it with `flask db current`")
    elif before != after:
        click.echo(f"migrated the restored schema from {before} to {after}")
    else:
        click.echo(f"schema at migration {after}, this version's")

    try:
        click.echo(rebuild_search(_bar))
    except Exception as error:  # noqa: BLE001 - the data is in place; say what is left to do
        raise click.ClickException(f"the data is restored, but rebuilding search failed: {error}. Fix that and run "
                                   f"`flask search rebuild`, then `flask support check`") from None

    drifts = pledges.check(db.session)
    for drift in drifts:
        click.echo(f"{drift.campaign}: {drift.counter} is {drift.stored}, the pledges say {drift.from_rows}")
    if drifts:
        raise click.ClickException("the restored pledge counters disagree with the pledges (see above)")
    click.echo("all pledge counters agree with the pledges")
