#!/usr/bin/env python3
"""A Hrana-over-HTTP server on one SQLite file, for testing OneGrid on Spin's libSQL backend.

Spin 4's `type = "libsql"` database speaks Hrana 3 over HTTP through the `libsql` crate's
remote client: every statement is a `POST /v3/cursor` carrying the stream's baton, and the
client's `execute`, `execute_batch` and the close it sends when a connection is dropped are
`POST /v3/pipeline`. This server implements that protocol (JSON encoding) on Python's sqlite3:

- `GET /v2`, `GET /v3`: the version checks (200);
- `POST /v2/pipeline`, `POST /v3/pipeline`: `execute`, `batch` (with step conditions),
  `sequence`, `store_sql`, `close_sql`, `get_autocommit`, `close`; `describe` answers an error;
- `POST /v3/cursor`: a batch whose results come back as newline-delimited entries.

Each stream (a baton chain) owns one sqlite3 connection, so `BEGIN IMMEDIATE` … `COMMIT`
across requests is a real transaction holding the file's write lock. A baton is good for one
request: every answer carries a new one. A request waits at most `--lock-timeout` seconds for
its stream (the client serialises its requests; a second one at once is a client bug), a
stream idle for `--stream-timeout` seconds (10, as sqld) is rolled back and closed, so an
abandoned baton does not hold the write lock, and its baton then answers HTTP 500
`STREAM_EXPIRED` as sqld's does; a connection waits `--busy-timeout` seconds for another
stream's write lock. The file is put in WAL mode at start.

Standard library only. `python3 tests/hrana/server.py --db FILE --token TOKEN --port 0`
prints `listening on http://127.0.0.1:PORT` once ready; `--log-sql FILE` appends every
statement text received, one JSON string a line.
"""

import argparse
import base64
import hmac
import json
import secrets
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ProtocolError(Exception):
    """A request that breaks the protocol: answered with HTTP 400 and the stream is gone."""


class StreamExpired(Exception):
    """A baton of a stream closed for inactivity: HTTP 500 with code STREAM_EXPIRED, as sqld."""


# How long an expired stream's baton is still told apart from an unknown one (sqld: 300 s).
EXPIRED_KEPT_SECONDS = 300


class Stream:
    def __init__(self, path, busy_timeout):
        self.conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self.lock = threading.Lock()
        self.baton = None
        self.last_used = time.monotonic()
        self.sqls = {}
        self.closed = False

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        self.conn.close()


class Hrana:
    """The streams of one database file."""

    def __init__(self, path, token, busy_timeout, lock_timeout, stream_timeout, log_sql):
        self.path = path
        self.token = token
        self.busy_timeout = busy_timeout
        self.lock_timeout = lock_timeout
        self.stream_timeout = stream_timeout
        self.by_baton = {}
        self.expired = {}  # baton -> when its stream expired
        self.guard = threading.Lock()
        self.log_sql = log_sql
        self.log_guard = threading.Lock()
        conn = sqlite3.connect(path, isolation_level=None)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        conn.close()
        if mode.lower() != "wal":
            raise SystemExit(f"{path}: journal mode is {mode}, not wal")

    # ---- streams and batons

    def open_stream(self, baton):
        """The stream `baton` names (a new one for None), locked for this request."""
        if baton is None:
            stream = Stream(self.path, self.busy_timeout)
            stream.lock.acquire()
            return stream
        with self.guard:
            stream = self.by_baton.get(baton)
            expired = baton in self.expired
        if expired:
            raise StreamExpired()
        if stream is None:
            raise ProtocolError("the baton is invalid or was used already")
        if not stream.lock.acquire(timeout=self.lock_timeout):
            raise ProtocolError("the stream is busy with another request")
        if stream.closed or stream.baton != baton:
            stream.lock.release()
            raise ProtocolError("the baton is invalid or was used already")
        return stream

    def release_stream(self, stream):
        """Gives the stream a new baton (None once it is closed) and unlocks it."""
        with self.guard:
            if stream.baton is not None:
                self.by_baton.pop(stream.baton, None)
            stream.baton = None
            if not stream.closed:
                stream.baton = secrets.token_urlsafe(24)
                self.by_baton[stream.baton] = stream
        stream.last_used = time.monotonic()
        stream.lock.release()
        return stream.baton

    def drop_stream(self, stream):
        """A stream whose request broke the protocol: closed, its baton gone."""
        with self.guard:
            if stream.baton is not None:
                self.by_baton.pop(stream.baton, None)
            stream.baton = None
        stream.close()
        stream.lock.release()

    def expire_idle(self):
        """Rolls back and closes the streams idle longer than the stream timeout."""
        now = time.monotonic()
        with self.guard:
            idle = [
                s
                for s in set(self.by_baton.values())
                if now - s.last_used > self.stream_timeout
            ]
        for stream in idle:
            if not stream.lock.acquire(blocking=False):
                continue  # a request is on it: not idle
            try:
                if time.monotonic() - stream.last_used > self.stream_timeout:
                    with self.guard:
                        self.by_baton.pop(stream.baton, None)
                        self.expired[stream.baton] = now
                        stream.baton = None
                    stream.close()
                    print("stream expired after its idle timeout", file=sys.stderr, flush=True)
            finally:
                stream.lock.release()
        with self.guard:
            for baton, at in list(self.expired.items()):
                if now - at > EXPIRED_KEPT_SECONDS:
                    del self.expired[baton]

    def stream_count(self):
        with self.guard:
            return len(self.by_baton)

    # ---- statements

    def logged(self, sql):
        if self.log_sql is not None:
            with self.log_guard:
                self.log_sql.write(json.dumps(sql) + "\n")
                self.log_sql.flush()
        return sql

    def stmt_sql(self, stream, stmt):
        if stmt.get("sql") is not None:
            return self.logged(stmt["sql"])
        sql_id = stmt.get("sql_id")
        if sql_id is None:
            raise ProtocolError("a statement needs sql or sql_id")
        if sql_id not in stream.sqls:
            raise ProtocolError(f"no SQL text stored as {sql_id}")
        return self.logged(stream.sqls[sql_id])

    def run(self, stream, stmt):
        """Executes one statement; (cols, rows, affected, last_insert_rowid) or sqlite3.Error."""
        sql = self.stmt_sql(stream, stmt)
        args = [decode_value(v) for v in stmt.get("args") or []]
        named = {}
        for arg in stmt.get("named_args") or []:
            name = arg["name"]
            # sqlite3 takes names without their prefix sign.
            named[name[1:] if name[:1] in (":", "@", "$") else name] = decode_value(
                arg["value"]
            )
        if args and named:
            raise sqlite3.ProgrammingError(
                "this server does not take positional and named arguments together"
            )
        try:
            cursor = stream.conn.execute(sql, named or args)
            rows = cursor.fetchall()
        except sqlite3.Error as e:
            # On stderr too: the client shows a step's error only to the application.
            print(f"sql error: {e}: {sql!r}", file=sys.stderr, flush=True)
            raise
        cols = [{"name": d[0], "decltype": None} for d in cursor.description or []]
        if stmt.get("want_rows") is False:
            rows = []
        affected = max(cursor.rowcount, 0)
        rowid = cursor.lastrowid
        return cols, rows, affected, rowid

    def stmt_result(self, stream, stmt):
        cols, rows, affected, rowid = self.run(stream, stmt)
        return {
            "cols": cols,
            "rows": [[encode_value(v) for v in row] for row in rows],
            "affected_row_count": affected,
            "last_insert_rowid": None if rowid is None else str(rowid),
            "rows_read": 0,
            "rows_written": 0,
            "query_duration_ms": 0.0,
        }

    def condition(self, stream, cond, results, errors):
        if cond is None:
            return True
        kind = cond.get("type")
        if kind == "ok":
            return results[cond["step"]] is not None
        if kind == "error":
            return errors[cond["step"]] is not None
        if kind == "not":
            return not self.condition(stream, cond["cond"], results, errors)
        if kind == "and":
            return all(self.condition(stream, c, results, errors) for c in cond["conds"])
        if kind == "or":
            return any(self.condition(stream, c, results, errors) for c in cond["conds"])
        if kind == "is_autocommit":
            return not stream.conn.in_transaction
        raise ProtocolError(f"unknown batch condition {kind!r}")

    def check_steps(self, steps, cond, index):
        """A condition may only look at earlier steps."""
        if cond is None:
            return
        for key in ("cond",):
            if key in cond:
                self.check_steps(steps, cond[key], index)
        for c in cond.get("conds") or []:
            self.check_steps(steps, c, index)
        if "step" in cond and not (0 <= cond["step"] < index):
            raise ProtocolError(f"step {index} has a condition on step {cond['step']}")

    def batch(self, stream, batch):
        """Runs a batch; yields ("begin", i, cols, rows, affected, rowid) or ("error", i, err)."""
        steps = batch.get("steps") or []
        results = [None] * len(steps)
        errors = [None] * len(steps)
        for i, step in enumerate(steps):
            self.check_steps(steps, step.get("condition"), i)
            if not self.condition(stream, step.get("condition"), results, errors):
                continue
            try:
                results[i] = self.stmt_result(stream, step["stmt"])
            except sqlite3.Error as e:
                errors[i] = sql_error(e)
        return results, errors

    def sequence(self, stream, sql):
        """Executes every statement of `sql` in order, without results; stops at an error."""
        start = 0
        for end in range(len(sql)):
            if sql[end] == ";" and sqlite3.complete_statement(sql[start : end + 1]):
                statement = sql[start : end + 1].strip()
                if statement.strip(";").strip():
                    stream.conn.execute(statement)
                start = end + 1
        rest = sql[start:].strip()
        if rest:
            stream.conn.execute(rest)

    def request(self, stream, req):
        """One pipeline request: a StreamResult."""
        kind = req.get("type")
        try:
            if kind == "close":
                stream.close()
                return ok({"type": "close"})
            if stream.closed:
                raise ProtocolError("the stream was closed")
            if kind == "execute":
                return ok({"type": "execute", "result": self.stmt_result(stream, req["stmt"])})
            if kind == "batch":
                results, errors = self.batch(stream, req["batch"])
                return ok(
                    {
                        "type": "batch",
                        "result": {"step_results": results, "step_errors": errors},
                    }
                )
            if kind == "sequence":
                sql = self.stmt_sql(stream, req)
                self.sequence(stream, sql)
                return ok({"type": "sequence"})
            if kind == "store_sql":
                stream.sqls[req["sql_id"]] = req["sql"]
                return ok({"type": "store_sql"})
            if kind == "close_sql":
                stream.sqls.pop(req["sql_id"], None)
                return ok({"type": "close_sql"})
            if kind == "get_autocommit":
                return ok(
                    {"type": "get_autocommit", "is_autocommit": not stream.conn.in_transaction}
                )
            if kind == "describe":
                return {
                    "type": "error",
                    "error": {"message": "describe is not implemented", "code": "NOT_SUPPORTED"},
                }
            raise ProtocolError(f"unknown request type {kind!r}")
        except sqlite3.Error as e:
            return {"type": "error", "error": sql_error(e)}

    def cursor_lines(self, stream, batch):
        """The cursor entries of a batch, in order."""
        steps = batch.get("steps") or []
        results = [None] * len(steps)
        errors = [None] * len(steps)
        lines = []
        for i, step in enumerate(steps):
            self.check_steps(steps, step.get("condition"), i)
            if not self.condition(stream, step.get("condition"), results, errors):
                continue
            try:
                cols, rows, affected, rowid = self.run(stream, step["stmt"])
            except sqlite3.Error as e:
                errors[i] = sql_error(e)
                lines.append({"type": "step_error", "step": i, "error": errors[i]})
                continue
            results[i] = True
            lines.append({"type": "step_begin", "step": i, "cols": cols})
            for row in rows:
                lines.append({"type": "row", "row": [encode_value(v) for v in row]})
            rowid = None if rowid is None else str(rowid)
            # `last_insert_rowid` is the spec's name; libsql 0.5's client reads `last_inserted_rowid`.
            lines.append(
                {
                    "type": "step_end",
                    "affected_row_count": affected,
                    "last_insert_rowid": rowid,
                    "last_inserted_rowid": rowid,
                }
            )
        return lines


def ok(response):
    return {"type": "ok", "response": response}


def sql_error(e):
    code = getattr(e, "sqlite_errorname", None) or type(e).__name__
    return {"message": f"SQLite error: {e}", "code": code}


def decode_value(v):
    kind = v.get("type")
    if kind == "null":
        return None
    if kind == "integer":
        return int(v["value"])
    if kind == "float":
        return float(v["value"])
    if kind == "text":
        return v["value"]
    if kind == "blob":
        text = v["base64"]
        return base64.b64decode(text + "=" * (-len(text) % 4))
    raise ProtocolError(f"unknown value type {kind!r}")


def encode_value(v):
    if v is None:
        return {"type": "null"}
    if isinstance(v, int):
        return {"type": "integer", "value": str(v)}
    if isinstance(v, float):
        return {"type": "float", "value": v}
    if isinstance(v, str):
        return {"type": "text", "value": v}
    if isinstance(v, bytes):
        return {"type": "blob", "base64": base64.b64encode(v).decode().rstrip("=")}
    raise TypeError(f"unexpected value {v!r}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: without TCP_NODELAY each answer waits out the
    # client's delayed ACK (about 40 ms a statement).
    disable_nagle_algorithm = True
    hrana = None  # set by main

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        given = self.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.hrana.token}".encode())

    def do_GET(self):
        if self.path in ("/v2", "/v3"):
            return self.answer(200, b"", "text/plain")
        if self.path == "/health":
            return self.answer(200, {"streams": self.hrana.stream_count()})
        self.answer(404, {"message": "not found"})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if not self.authorized():
            return self.answer(401, {"message": "unauthorized", "code": "UNAUTHORIZED"})
        if self.path not in ("/v2/pipeline", "/v3/pipeline", "/v3/cursor"):
            return self.answer(404, {"message": "not found"})
        try:
            body = json.loads(raw)
        except ValueError:
            return self.answer(400, {"message": "the body is not JSON", "code": "PROTOCOL"})
        hrana = self.hrana
        try:
            stream = hrana.open_stream(body.get("baton"))
        except StreamExpired:
            message = {"message": "The stream has expired due to inactivity", "code": "STREAM_EXPIRED"}
            return self.answer(500, message)
        except ProtocolError as e:
            return self.answer(400, str(e).encode(), "text/plain")
        try:
            if self.path == "/v3/cursor":
                lines = hrana.cursor_lines(stream, body.get("batch") or {})
            else:
                results = [hrana.request(stream, r) for r in body.get("requests") or []]
        except (ProtocolError, KeyError, TypeError, ValueError) as e:
            hrana.drop_stream(stream)
            return self.answer(400, f"protocol error: {e}".encode(), "text/plain")
        baton = hrana.release_stream(stream)
        if self.path == "/v3/cursor":
            head = {"baton": baton, "base_url": None}
            text = "".join(json.dumps(x) + "\n" for x in [head, *lines])
            return self.answer(200, text.encode(), "text/plain")
        self.answer(200, {"baton": baton, "base_url": None, "results": results})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="the SQLite file (created if missing)")
    parser.add_argument("--token", required=True, help="the bearer token clients must send")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--busy-timeout", type=float, default=5.0)
    parser.add_argument("--lock-timeout", type=float, default=5.0)
    parser.add_argument("--stream-timeout", type=float, default=10.0)
    parser.add_argument("--log-sql", help="append every statement text to this file")
    args = parser.parse_args()
    log_sql = open(args.log_sql, "a", encoding="utf-8") if args.log_sql else None
    hrana = Hrana(
        args.db, args.token, args.busy_timeout, args.lock_timeout, args.stream_timeout, log_sql
    )
    Handler.hrana = hrana
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True

    def reaper():
        while True:
            time.sleep(min(1.0, args.stream_timeout / 4))
            hrana.expire_idle()

    threading.Thread(target=reaper, daemon=True).start()
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
