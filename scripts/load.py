#!/usr/bin/env python3
"""OneGrid load script: loopback only, bounded in time and count, standard library only.

Phase 1: intake, N concurrent clients POSTing valid reports for --seconds.
Phase 2: mixed read/write (tracking reads, grid lookups, reports) for --seconds.
Prints per phase: requests, req/s, p50/p99 latency, non-2xx by status, 5xx count.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_REQUESTS_PER_PHASE = 2_000_000
MAX_SECONDS = 600
MAX_CLIENTS = 256


class Conn:
    """One keep-alive HTTP/1.1 connection per client, reopened after errors."""

    def __init__(self, host, port):
        self.host, self.port, self.c = host, port, None

    def request(self, method, path, body=None):
        headers = {"content-type": "application/json"} if body is not None else {}
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.c.request(method, path, body=data, headers=headers)
                r = self.c.getresponse()
                raw = r.read()
                return r.status, raw
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = None
                if attempt:
                    return 0, b""  # 0: connection error
        return 0, b""


def demo_points(conn, n=40):
    """Random points in the demo extent that GET /api/grid/lookup places in a cell."""
    rng = random.Random(1)
    points = []
    for _ in range(n * 20):
        lat, lng = rng.uniform(24.40, 24.75), rng.uniform(117.85, 118.45)
        status, _ = conn.request("GET", f"/api/grid/lookup?lat={lat:.6f}&lng={lng:.6f}")
        if status == 200:
            points.append((lat, lng))
            if len(points) >= n:
                break
    return points


def categories(conn):
    status, raw = conn.request("GET", "/api/categories")
    if status != 200:
        sys.exit(f"GET /api/categories answered {status}")
    data = json.loads(raw)
    items = data.get("categories", data) if isinstance(data, dict) else data
    codes = [c["code"] for c in items if isinstance(c, dict) and "code" in c]
    if not codes:
        sys.exit("no categories")
    return codes


def report(rng, points, cats):
    lat, lng = rng.choice(points)
    return {
        "category": rng.choice(cats),
        "description": "Load test: the streetlight by the bus stop is out at night.",
        "lat": lat, "lng": lng, "crs": "wgs84", "channel": "web",
    }


def run_phase(name, host, port, seconds, clients, points, cats, mixed):
    results = []  # (status, latency_s) per client, merged later
    lock = threading.Lock()
    tracking = []
    deadline = time.monotonic() + seconds
    budget = [MAX_REQUESTS_PER_PHASE]

    def worker(seed):
        rng = random.Random(seed)
        conn = Conn(host, port)
        local = []
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            roll = rng.random() if mixed else 1.0
            if mixed and roll < 0.4 and tracking:
                method, path, body = "GET", f"/api/reports/{rng.choice(tracking)}", None
            elif mixed and roll < 0.8:
                lat, lng = rng.choice(points)
                lat += rng.uniform(-0.0005, 0.0005)
                lng += rng.uniform(-0.0005, 0.0005)
                method, path, body = "GET", f"/api/grid/lookup?lat={lat:.6f}&lng={lng:.6f}", None
            else:
                method, path, body = "POST", "/api/reports", report(rng, points, cats)
            t0 = time.perf_counter()
            status, raw = conn.request(method, path, body)
            local.append((status, time.perf_counter() - t0))
            if method == "POST" and status == 201:
                try:
                    code = json.loads(raw)["tracking_code"]
                    with lock:
                        if len(tracking) < 10_000:
                            tracking.append(code)
                except (ValueError, KeyError):
                    pass
        with lock:
            results.extend(local)

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    lat = sorted(l for _, l in results)
    n = len(results)
    pct = lambda p: lat[min(n - 1, int(p * n))] * 1000 if n else float("nan")
    non2xx = {}
    for s, _ in results:
        if not 200 <= s < 300:
            non2xx[s] = non2xx.get(s, 0) + 1
    five = sum(c for s, c in non2xx.items() if 500 <= s < 600)
    print(f"== {name}: {clients} clients, {elapsed:.1f} s")
    print(f"   requests   {n}")
    print(f"   throughput {n / elapsed:.1f} req/s")
    print(f"   latency    p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms")
    print(f"   non-2xx    {dict(sorted(non2xx.items())) or 'none'} (0 = connection error)")
    print(f"   5xx        {five}")
    sys.stdout.flush()
    return tracking


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", default="http://127.0.0.1:3000")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=64)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.base)
    if u.scheme != "http" or u.hostname not in LOOPBACK:
        sys.exit(f"refusing {a.base!r}: only http:// on 127.0.0.1, localhost or [::1]")
    if not 0 < a.seconds <= MAX_SECONDS or not 0 < a.clients <= MAX_CLIENTS:
        sys.exit(f"--seconds must be in (0, {MAX_SECONDS}], --clients in (0, {MAX_CLIENTS}]")
    host, port = u.hostname, u.port or 80
    setup = Conn(host, port)
    cats = categories(setup)
    points = demo_points(setup)
    if not points:
        sys.exit("no point of the demo extent is inside a grid cell (is the demo city loaded?)")
    print(f"{len(cats)} categories, {len(points)} lookup-verified points")
    run_phase("phase 1: intake", host, port, a.seconds, a.clients, points, cats, False)
    run_phase("phase 2: mixed read/write", host, port, a.seconds, a.clients, points, cats, True)


if __name__ == "__main__":
    main()
