#!/usr/bin/env bash
# Measures what the foundation issue asks for, on this machine:
#   - cold start to "ward ready" on SQLite (first start of an empty data dir, which also
#     generates the master key and the RS256/ES256 keys; and a restart on existing data),
#   - idle resident memory after start-up and a few requests,
#   - release binary size.
# Usage: benches/startup.sh [RUNS]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ward-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/ward"

python3 - "$bin" "$runs" <<'PY'
import os, statistics, subprocess, sys, tempfile, time, urllib.request

bin, runs = sys.argv[1], int(sys.argv[2])
env = {k: v for k, v in os.environ.items() if not k.startswith("WARD_")}
env.update(WARD_LISTEN="127.0.0.1:0", WARD_LOG="warn")

def start(data):
    t0 = time.perf_counter()
    p = subprocess.Popen([bin, "serve"], env={**env, "WARD_DATA_DIR": data}, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    ready = (time.perf_counter() - t0) * 1000
    assert line.startswith("ward ready"), line
    return p, line.split()[4], ready

def stop(p):
    p.terminate(); p.wait()

def rss_kib(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])

first, again, rss = [], [], []
for _ in range(runs):
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "data")
        p, base, ms = start(data); first.append(ms)
        stop(p)
        p, base, ms = start(data); again.append(ms)
        for path in ["/healthz", "/readyz", "/", "/metrics"]:
            urllib.request.urlopen(base + path).read()
        time.sleep(2)
        rss.append(rss_kib(p.pid) / 1024)
        stop(p)

def show(name, xs, unit):
    print(f"{name:<44} median {statistics.median(xs):7.1f} {unit}   min {min(xs):7.1f}   max {max(xs):7.1f}   (n={len(xs)})")

show("first start, empty data dir -> ready", first, "ms")
show("restart on existing SQLite data -> ready", again, "ms")
show("idle resident memory after requests", rss, "MiB")
print(f"{'release binary size':<44} {os.path.getsize(bin) / 1024 / 1024:.1f} MiB")
PY
