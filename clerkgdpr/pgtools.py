"""Find and run the PostgreSQL client programs (pg_dump, pg_restore, psql) that match the server.

pg_dump refuses a server newer than itself, and pg_restore / psql of another
major version may not read the dump's newer commands, so we pick the
binaries whose major version is the server's: the embedded pgserver ships its
own, Debian puts each version under /usr/lib/postgresql/<major>/bin, and
PATH may hold either.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

from django.db import connection


class PgToolMissing(RuntimeError):
    pass


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def _candidate_dirs(major: int) -> list[Path]:
    dirs = []
    try:
        import pgserver

        dirs.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:  # pragma: no cover - pgserver is a dependency
        pass
    dirs.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    return dirs


def _major_of(binary: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except OSError:
        return None
    match = re.search(r"\) (\d+)", out)
    return int(match.group(1)) if match else None


@functools.cache
def _find(name: str, major: int) -> str:
    candidates = [d / name for d in _candidate_dirs(major)]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for binary in candidates:
        if binary.is_file() and _major_of(binary) == major:
            return str(binary)
    raise PgToolMissing(
        f"no {name} for PostgreSQL {major} found (looked in pgserver, "
        f"/usr/lib/postgresql/{major}/bin and PATH)"
    )


def pg_tool(name: str) -> str:
    """Absolute path of ``name`` (pg_dump, pg_restore, psql) matching the server's major version."""
    return _find(name, server_major())


def pg_env() -> dict[str, str]:
    """Environment that points libpq programs at Django's database (password never on argv)."""
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"], "PGUSER": db["USER"] or "postgres"}
    if db.get("HOST"):
        env["PGHOST"] = db["HOST"]
    if db.get("PORT"):
        env["PGPORT"] = str(db["PORT"])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


_IDENTITY = re.compile(
    rb"ALTER TABLE (?:ONLY )?(?P<table>\S+) ALTER COLUMN (?P<column>\S+) "
    rb"ADD (?P<kind>GENERATED (?:BY DEFAULT|ALWAYS) AS IDENTITY) \((?P<options>.*)\);\s*",
    re.DOTALL,
)


def dump_rewrite(source, sink, pattern: re.Pattern, target: bytes) -> None:
    """Copy pg_dump / pg_restore SQL, renaming the schema in statements but never in COPY data.

    pg_dump writes an identity column as ``CREATE TABLE`` followed by ``ALTER TABLE ...
    ALTER COLUMN ... ADD GENERATED ... AS IDENTITY (...)``, which Citus refuses on a
    distributed table; the identity (same sequence name and options) is folded into the
    ``CREATE TABLE`` instead: the same table on any PostgreSQL.
    """
    in_copy = False
    table: list[bytes] = []  # a CREATE TABLE held back until the next statement is known
    between: list[bytes] = []  # comments and blank lines after it
    lines = iter(source)
    for line in lines:
        if in_copy:
            if line == b"\\.\n":
                in_copy = False
            sink.write(line)
            continue
        # A CREATE TABLE ends with ");" or, with storage parameters, "WITH (...);".
        if table and not table[-1].rstrip().endswith(b";"):
            table.append(line)
            continue
        if table and (not line.strip() or line.startswith(b"--")):
            between.append(line)
            continue
        if table:
            folded = False
            if line.startswith(b"ALTER TABLE ") and b" ADD GENERATED " in line:
                while not line.rstrip().endswith(b";"):
                    line += next(lines)
                folded = _fold_identity(table, _IDENTITY.fullmatch(line))
            sink.write(pattern.sub(target, b"".join(table + between)))
            table, between = [], []
            if folded:
                continue
        if line.startswith(b"CREATE TABLE ") and not line.rstrip().endswith(b";"):
            table = [line]
            continue
        if line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
            in_copy = True
        sink.write(pattern.sub(target, line))
    sink.write(pattern.sub(target, b"".join(table + between)))


def _fold_identity(table: list[bytes], identity: re.Match | None) -> bool:
    """Put an ``ADD GENERATED ... AS IDENTITY`` into the held ``CREATE TABLE``'s column line."""
    if identity is None or not table[0].startswith(b"CREATE TABLE " + identity["table"] + b" ("):
        return False
    column = re.compile(rb"(\s+" + re.escape(identity["column"]) + rb" .*?)(,?)\n")
    options = b" ".join(identity["options"].split())
    for i, line in enumerate(table[1:], start=1):
        match = column.fullmatch(line)
        if match:
            table[i] = b"%s %s (%s)%s\n" % (match[1], identity["kind"], options, match[2])
            return True
    return False
