#!/usr/bin/env bash
# Password sign-ins per second through the real pages, release build, loopback.
#
#   benches/login.sh [SIGN_INS] [THREADS]        (defaults: 400 sign-ins, 8 client threads)
#
# Each sign-in is a full `POST /login` (argon2id at the configured cost, the
# throttle, the risk assessment, the session and its audit record) for an
# interaction prepared beforehand (`GET /authorize` and the login page, not
# timed). Compare with `cargo bench --bench password` (raw argon2id verifications
# on the same machine). Ward runs at most (cores - 1) hashes at once, keeping a
# core for everything else, so the fair ceiling is the raw rate at that many threads.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-400}"
threads="${2:-8}"
source benches/setup.sh
"$ward" client add bench --type public --first-party --redirect-uri "$redirect" >/dev/null

start_ward

echo "Ward password sign-ins: $count sign-ins, $threads client threads, $backend, $(nproc) cores"
python3 - "$base" "$redirect" "$count" "$threads" <<'PY'
import http.client, sys, threading, time, urllib.parse
sys.path.insert(0, "benches")
from codes import authorize_query, login_form, request as req
base, redirect, count, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host, port = urllib.parse.urlparse(base).hostname, urllib.parse.urlparse(base).port
q = authorize_query(redirect, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", scope="openid")
prepared = []
c = http.client.HTTPConnection(host, port)
for _ in range(count):
    cookies = {}
    prepared.append((cookies, login_form(c, q, cookies)))
ok, bad, lock, latencies = [0], [], threading.Lock(), []
def work(items):
    conn = http.client.HTTPConnection(host, port)
    for cookies, form in items:
        t = time.perf_counter()
        status, loc, body = req(conn, "POST", "/login", cookies, form)
        with lock:
            latencies.append(time.perf_counter() - t)
            if status == 303 and loc and "/login" not in loc: ok[0] += 1
            else: bad.append((status, loc))
started = time.perf_counter()
ts = [threading.Thread(target=work, args=(prepared[i::threads],)) for i in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
elapsed = time.perf_counter() - started
latencies.sort()
print(f"password sign-ins: {ok[0] / elapsed:.1f}/s ({ok[0]} in {elapsed:.1f} s; p50 {latencies[len(latencies)//2]*1000:.0f} ms, p99 {latencies[int(len(latencies)*0.99)]*1000:.0f} ms)")
if bad: print(f"not signed in: {len(bad)}, e.g. {bad[:3]}"); sys.exit(1)
PY
