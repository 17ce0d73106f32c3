#!/usr/bin/env python3
"""Checks tests/hrana/server.py over real HTTP: `python3 tests/hrana/check.py` (unittest).

Each test starts the server on a fresh file and a free port with short timeouts, and speaks
the protocol as Spin's libSQL client does (JSON bodies, `Authorization: Bearer`)."""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")
TOKEN = "check-token"


class Server:
    def __init__(self, **timeouts):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "db.sqlite")
        args = [sys.executable, SERVER, "--db", self.db, "--token", TOKEN, "--port", "0"]
        for name, value in timeouts.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the server said {line!r}")
        self.url = line.split()[-1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.dir.cleanup()

    def post(self, path, body, token=TOKEN):
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def pipeline(self, baton, *requests):
        status, text = self.post("/v3/pipeline", {"baton": baton, "requests": list(requests)})
        assert status == 200, (status, text)
        body = json.loads(text)
        return body["baton"], body["results"]

    def cursor(self, baton, *steps):
        status, text = self.post("/v3/cursor", {"baton": baton, "batch": {"steps": list(steps)}})
        assert status == 200, (status, text)
        head, *entries = [json.loads(line) for line in text.splitlines()]
        return head["baton"], entries


def stmt(sql, *args, want_rows=True):
    return {"sql": sql, "args": [value(a) for a in args], "want_rows": want_rows}


def execute(sql, *args):
    return {"type": "execute", "stmt": stmt(sql, *args)}


def value(v):
    if v is None:
        return {"type": "null"}
    if isinstance(v, int):
        return {"type": "integer", "value": str(v)}
    if isinstance(v, float):
        return {"type": "float", "value": v}
    if isinstance(v, str):
        return {"type": "text", "value": v}
    import base64

    return {"type": "blob", "base64": base64.b64encode(v).decode().rstrip("=")}


def result(r):
    assert r["type"] == "ok", r
    return r["response"]["result"]


class HranaServerTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(busy_timeout=0.5, lock_timeout=1, stream_timeout=1.5)

    def tearDown(self):
        self.server.stop()

    def test_the_file_is_in_wal_mode(self):
        conn = sqlite3.connect(self.server.db)
        self.assertEqual(conn.execute("PRAGMA journal_mode").fetchone()[0], "wal")

    def test_version_checks_answer_and_a_wrong_token_is_refused(self):
        with urllib.request.urlopen(self.server.url + "/v3") as resp:
            self.assertEqual(resp.status, 200)
        status, _ = self.server.post("/v3/pipeline", {"baton": None, "requests": []}, "wrong")
        self.assertEqual(status, 401)

    def test_values_round_trip_and_results_carry_counts(self):
        s = self.server
        baton, res = s.pipeline(
            None,
            execute("CREATE TABLE t (id INTEGER PRIMARY KEY, i, r, x, b)"),
            execute(
                "INSERT INTO t (i, r, x, b) VALUES (?, ?, ?, ?), (?, ?, ?, ?)",
                -(2**63), 1.5, "网格; 'q'", b"\x00\xff\x01",
                None, 0.1, "", b"",
            ),
            execute("SELECT id, i, r, x, b FROM t ORDER BY id"),
            {"type": "close"},
        )
        self.assertIsNone(baton)
        insert = result(res[1])
        self.assertEqual(insert["affected_row_count"], 2)
        self.assertEqual(insert["last_insert_rowid"], "2")
        rows = result(res[2])
        self.assertEqual([c["name"] for c in rows["cols"]], ["id", "i", "r", "x", "b"])
        self.assertEqual(
            rows["rows"][0],
            [value(1), value(-(2**63)), value(1.5), value("网格; 'q'"), value(b"\x00\xff\x01")],
        )
        self.assertEqual(rows["rows"][1], [value(2), value(None), value(0.1), value(""), value(b"")])
        self.assertEqual(res[3], {"type": "ok", "response": {"type": "close"}})

    def test_an_error_is_a_result_and_the_pipeline_goes_on(self):
        _, res = self.server.pipeline(
            None,
            execute("SELECT * FROM missing"),
            execute("SELECT 1; SELECT 2"),
            execute("SELECT 7 AS seven"),
        )
        self.assertEqual(res[0]["type"], "error")
        self.assertIn("no such table: missing", res[0]["error"]["message"])
        self.assertEqual(res[1]["type"], "error", "one statement per execute")
        self.assertEqual(result(res[2])["rows"], [[value(7)]])

    def test_a_batch_follows_its_conditions(self):
        steps = [
            {"stmt": stmt("CREATE TABLE t (x INTEGER UNIQUE)")},
            {"stmt": stmt("INSERT INTO t VALUES (1)"), "condition": {"type": "ok", "step": 0}},
            {"stmt": stmt("INSERT INTO t VALUES (1)"), "condition": {"type": "ok", "step": 1}},
            {"stmt": stmt("INSERT INTO t VALUES (2)"), "condition": {"type": "ok", "step": 2}},
            {
                "stmt": stmt("INSERT INTO t VALUES (3)"),
                "condition": {
                    "type": "and",
                    "conds": [
                        {"type": "error", "step": 2},
                        {"type": "not", "cond": {"type": "ok", "step": 3}},
                        {"type": "is_autocommit"},
                    ],
                },
            },
            {"stmt": stmt("SELECT x FROM t ORDER BY x")},
        ]
        _, res = self.server.pipeline(None, {"type": "batch", "batch": {"steps": steps}})
        batch = res[0]["response"]["result"]
        self.assertEqual([r is not None for r in batch["step_results"]], [1, 1, 0, 0, 1, 1])
        self.assertIn("UNIQUE constraint failed", batch["step_errors"][2]["message"])
        self.assertEqual(batch["step_errors"][2]["code"], "SQLITE_CONSTRAINT_UNIQUE")
        self.assertIsNone(batch["step_errors"][3], "skipped: neither result nor error")
        self.assertEqual(batch["step_results"][5]["rows"], [[value(1)], [value(3)]])

    def test_a_cursor_streams_steps_and_errors(self):
        baton, entries = self.server.cursor(
            None,
            {"stmt": stmt("CREATE TABLE t (x)")},
            {"stmt": stmt("INSERT INTO t VALUES (?), (?)", 5, "five")},
            {"stmt": stmt("SELECT x FROM t")},
            {"stmt": stmt("SELECT nope FROM t")},
        )
        self.assertIsNotNone(baton, "a cursor leaves the stream open")
        kinds = [e["type"] for e in entries]
        self.assertEqual(
            kinds,
            ["step_begin", "step_end"] * 2 + ["step_begin", "row", "row", "step_end", "step_error"],
        )
        self.assertEqual(entries[3]["affected_row_count"], 2)
        self.assertEqual(entries[3]["last_inserted_rowid"], "2")
        self.assertEqual(entries[4]["cols"], [{"name": "x", "decltype": None}])
        self.assertEqual(entries[5]["row"], [value(5)])
        self.assertEqual(entries[8]["step"], 3)
        self.assertIn("no such column: nope", entries[8]["error"]["message"])

    def test_a_baton_is_good_for_one_request(self):
        s = self.server
        first, _ = s.pipeline(None, execute("SELECT 1"))
        second, _ = s.pipeline(first, execute("SELECT 2"))
        self.assertNotEqual(first, second)
        status, text = s.post("/v3/pipeline", {"baton": first, "requests": []})
        self.assertEqual(status, 400, text)
        status, _ = s.post("/v3/pipeline", {"baton": "forged", "requests": []})
        self.assertEqual(status, 400)
        closed, _ = s.pipeline(second, {"type": "close"})
        self.assertIsNone(closed)
        status, _ = s.post("/v3/pipeline", {"baton": second, "requests": []})
        self.assertEqual(status, 400, "a closed stream's baton is dead")

    def test_a_transaction_holds_across_requests_on_one_stream_only(self):
        s = self.server
        setup, _ = s.pipeline(None, execute("CREATE TABLE t (x)"), {"type": "close"})
        a, res = s.pipeline(None, execute("BEGIN IMMEDIATE"), {"type": "get_autocommit"})
        self.assertFalse(res[1]["response"]["is_autocommit"])
        a, _ = s.cursor(a, {"stmt": stmt("INSERT INTO t VALUES (1)")})
        # Another stream reads the last committed state and cannot take the write lock.
        b, res = s.pipeline(None, execute("SELECT COUNT(*) FROM t"), execute("BEGIN IMMEDIATE"))
        self.assertEqual(result(res[0])["rows"], [[value(0)]])
        self.assertEqual(res[1]["type"], "error")
        self.assertIn("locked", res[1]["error"]["message"])
        a, res = s.pipeline(a, execute("COMMIT"), {"type": "get_autocommit"})
        self.assertTrue(res[1]["response"]["is_autocommit"])
        b, res = s.pipeline(b, execute("SELECT COUNT(*) FROM t"))
        self.assertEqual(result(res[0])["rows"], [[value(1)]])

    def test_a_writer_waits_for_the_lock_within_the_busy_timeout(self):
        s = self.server
        s.pipeline(None, execute("CREATE TABLE t (x)"), {"type": "close"})
        a, _ = s.pipeline(None, execute("BEGIN IMMEDIATE"), execute("INSERT INTO t VALUES (1)"))
        waited = {}

        def other_writer():
            start = time.monotonic()
            _, res = s.pipeline(None, execute("INSERT INTO t VALUES (2)"))
            waited["seconds"] = time.monotonic() - start
            waited["result"] = res[0]

        t = threading.Thread(target=other_writer)
        t.start()
        time.sleep(0.2)
        s.pipeline(a, execute("COMMIT"))
        t.join()
        self.assertEqual(waited["result"]["type"], "ok", waited)
        self.assertGreater(waited["seconds"], 0.15)

    def test_an_abandoned_stream_is_rolled_back_and_its_lock_freed(self):
        s = self.server
        s.pipeline(None, execute("CREATE TABLE t (x)"), {"type": "close"})
        a, _ = s.pipeline(None, execute("BEGIN IMMEDIATE"), execute("INSERT INTO t VALUES (1)"))
        time.sleep(3)  # past the 1.5 s stream timeout
        status, text = s.post("/v3/pipeline", {"baton": a, "requests": []})
        self.assertEqual(status, 500, "the idle stream expired")
        self.assertEqual(json.loads(text)["code"], "STREAM_EXPIRED")
        _, res = s.pipeline(None, execute("BEGIN IMMEDIATE"), execute("SELECT COUNT(*) FROM t"))
        self.assertEqual(res[0]["type"], "ok", "the write lock is free again")
        self.assertEqual(result(res[1])["rows"], [[value(0)]], "the insert was rolled back")

    def test_sequence_and_stored_sql(self):
        s = self.server
        b, res = s.pipeline(
            None,
            {"type": "sequence", "sql": "CREATE TABLE t (x); INSERT INTO t VALUES ('a;b');;"},
            {"type": "store_sql", "sql_id": 1, "sql": "SELECT x FROM t"},
            {"type": "execute", "stmt": {"sql_id": 1}},
            {"type": "close_sql", "sql_id": 1},
            {"type": "sequence", "sql": "INSERT INTO t VALUES (1); INSERT INTO nowhere VALUES (2)"},
            execute("SELECT COUNT(*) FROM t"),
        )
        self.assertEqual([r["type"] for r in res], ["ok"] * 4 + ["error", "ok"])
        self.assertEqual(result(res[2])["rows"], [[value("a;b")]])
        self.assertEqual(result(res[5])["rows"], [[value(2)]], "a sequence stops at its error")

    def test_named_arguments_bind_with_or_without_their_sign(self):
        args = [
            {"name": ":a", "value": value(2)},
            {"name": "b", "value": value(3)},
        ]
        _, res = self.server.pipeline(
            None, {"type": "execute", "stmt": {"sql": "SELECT :a * :b AS p", "named_args": args}}
        )
        self.assertEqual(result(res[0])["rows"], [[value(6)]])


if __name__ == "__main__":
    unittest.main()
