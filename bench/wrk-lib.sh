# What bench/spin-ratios and scripts/bench share: free ports, the report bodies and lookup
# paths made from a running OneGrid, the wrk scripts that count every non-2xx answer, and a
# process's CPU time. Sourced, never run; every function is bounded in time.

bench_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

bench_secret() {
    python3 -c 'import secrets; print(secrets.token_hex(16))'
}

# bench_wait_for URL LOG: until URL answers 2xx (60 s at most; then LOG is printed).
bench_wait_for() {
    local url=$1 log=$2
    for _ in $(seq 1 300); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    printf 'bench: %s did not answer within 60 s; its log:\n' "$url" >&2
    cat "$log" >&2
    exit 1
}

# bench_report_data APP WORK: WORK/intake-data.lua (400 report bodies over the demo's
# categories and points in a cell) and WORK/lookup-data.lua (those points' lookup paths).
bench_report_data() {
    python3 - "$1" "$2" <<'PY'
import json, random, sys, urllib.request
app, work = sys.argv[1], sys.argv[2]
def get(path):
    try:
        with urllib.request.urlopen(app + path, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
status, raw = get("/api/categories")
data = json.loads(raw) if status == 200 else []
items = data.get("categories", []) if isinstance(data, dict) else data
cats = [c["code"] for c in items if isinstance(c, dict) and "code" in c]
if not cats:
    sys.exit(f"bench: no categories (GET /api/categories answered {status})")
rng = random.Random(1)
points = []
for _ in range(4000):
    lat, lng = rng.uniform(24.40, 24.75), rng.uniform(117.85, 118.45)
    if get(f"/api/grid/lookup?lat={lat:.6f}&lng={lng:.6f}")[0] == 200:
        points.append((lat, lng))
        if len(points) >= 200:
            break
if len(points) < 20:
    sys.exit(f"bench: only {len(points)} points of the demo extent lie in a cell")
def lua(s):
    return json.dumps(s)  # a JSON string is a valid Lua string literal for this text
bodies = []
for i in range(400):
    lat, lng = points[i % len(points)]
    bodies.append(json.dumps({
        "category": cats[i % len(cats)],
        "description": "Bench: the streetlight by the bus stop is out at night.",
        "lat": lat, "lng": lng, "crs": "wgs84", "channel": "web",
    }))
paths = [f"/api/grid/lookup?lat={lat:.6f}&lng={lng:.6f}" for lat, lng in points]
with open(f"{work}/intake-data.lua", "w") as f:
    f.write("bodies = {" + ",".join(lua(b) for b in bodies) + "}\n")
with open(f"{work}/lookup-data.lua", "w") as f:
    f.write("paths = {" + ",".join(lua(p) for p in paths) + "}\n")
PY
}

# bench_wrk_scripts WORK: WORK/{count,hello,lookup,intake}.lua. count.lua counts non-2xx
# answers in each thread and prints one line at the end:
#   RESULT requests duration_us mean_us p99_us non2xx socket_errors p50_us statuses
bench_wrk_scripts() {
    local work=$1
    cat >"$work/count.lua" <<'LUA'
local threads = {}
function setup(thread)
    table.insert(threads, thread)
end
function init(args)
    bad = 0
    statuses = {}
end
function response(status, headers, body)
    if status < 200 or status > 299 then
        bad = bad + 1
        statuses[status] = (statuses[status] or 0) + 1
    end
end
function done(summary, latency, requests)
    local bad_total, seen = 0, {}
    for _, t in ipairs(threads) do
        bad_total = bad_total + t:get("bad")
        for status, n in pairs(t:get("statuses")) do
            seen[status] = (seen[status] or 0) + n
        end
    end
    local errors = summary.errors
    local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
    local by_status = {}
    for status, n in pairs(seen) do table.insert(by_status, status .. "x" .. n) end
    io.write(string.format("RESULT %d %d %.0f %d %d %d %d %s\n", summary.requests, summary.duration,
        latency.mean, latency:percentile(99), bad_total, socket_errors, latency:percentile(50),
        table.concat(by_status, ",")))
end
LUA
    printf 'dofile("%s/count.lua")\n' "$work" >"$work/hello.lua"
    cat >"$work/lookup.lua" <<LUA
dofile("$work/count.lua")
dofile("$work/lookup-data.lua")
local n = 0
function request()
    n = n + 1
    return wrk.format("GET", paths[(n % #paths) + 1])
end
LUA
    cat >"$work/intake.lua" <<LUA
dofile("$work/count.lua")
dofile("$work/intake-data.lua")
local n = 0
local headers = { ["content-type"] = "application/json" }
function request()
    n = n + 1
    return wrk.format("POST", "/api/reports", headers, bodies[(n % #bodies) + 1])
end
LUA
}

# bench_cpu_ticks PID: the CPU time (clock ticks) of PID and its children.
bench_cpu_ticks() {
    local total=0 pid
    for pid in "$1" $(pgrep -P "$1" || true); do
        if [[ -r /proc/$pid/stat ]]; then
            # utime and stime: fields 14 and 15, after the ")" that ends the command's name.
            read -r -a f <<<"$(sed 's/.*) //' "/proc/$pid/stat")"
            total=$((total + f[11] + f[12]))
        fi
    done
    printf '%s\n' "$total"
}

# bench_wrk WORK SCRIPT URL SECONDS CONNECTIONS THREADS PID: one bounded wrk run; prints
#   requests duration_us mean_us p99_us non2xx socket_errors p50_us statuses cpu_ticks
# the last PID's CPU time during the run.
bench_wrk() {
    local work=$1 script=$2 url=$3 secs=$4 conns=$5 threads=$6 pid=$7 before after
    before=$(bench_cpu_ticks "$pid")
    wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 10s -s "$work/$script.lua" "$url" \
        >"$work/$script.out" 2>&1 || { cat "$work/$script.out" >&2; exit 1; }
    after=$(bench_cpu_ticks "$pid")
    local -a r
    read -r -a r <<<"$(sed -n 's/^RESULT //p' "$work/$script.out")"
    printf '%s %s %s %s %s %s %s %s %s\n' "${r[0]}" "${r[1]}" "${r[2]}" "${r[3]}" "${r[4]}" \
        "${r[5]}" "${r[6]}" "${r[7]:--}" $((after - before))
}
