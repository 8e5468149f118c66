#!/usr/bin/env bash
# Instructions per client_credentials token, code exchange and refresh, counted by valgrind's
# callgrind: the same figure for the same binary and inputs whatever else the
# machine is doing, where requests/s on a shared 2-core machine vary by 10 %
# or more from run to run (docs/benchmarks.md). Compare two builds with it.
#
#   benches/instructions.sh [EXCHANGES]        (default 200; WARD_BIN=... as for load.sh)
#
# The server runs under callgrind with instrumentation off; the authorization
# codes are made first; instrumentation is on only while the client_credentials
# requests, then the exchanges, then the refreshes run one after another (each
# followed by 3 s in which the audit sealer chains what they left pending, so
# its share is counted too; the idle ticks in those 3 s add about 1 % at 200).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200}"
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
source benches/setup.sh
secret=$("$ward" client add bench --type confidential --first-party --redirect-uri "$redirect" \
  --grant-type authorization_code --grant-type refresh_token --grant-type client_credentials \
  --scope "openid profile api offline_access" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" \
  "$ward" serve > "$work/serve.out" 2> "$work/serve.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q "ward ready" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done

python3 - "$base" "$redirect" "$secret" "$n" "$pid" "$work" <<'PY'
import base64, hashlib, http.client, json, subprocess, sys, time, urllib.parse
sys.path.insert(0, "benches")
from codes import authorize_query, code, request, sign_in
base, redirect, secret, n, pid, work = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
cookies = {}
def req(method, path, body=None, headers=None):
    return request(conn, method, path, cookies, body, headers)
verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
q = authorize_query(redirect, challenge)
sign_in(conn, q, cookies)
codes = [code(conn, q, cookies) for _ in range(n)]
auth = {"Authorization": "Basic " + base64.b64encode(f"bench:{secret}".encode()).decode()}
cookies.clear()
time.sleep(3)  # the sign-in's and the codes' records chained, uncounted
def counted(label, bodies):
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    out = []
    for body in bodies:
        status, _, data = req("POST", "/token", body, auth)
        assert status == 200, data
        out.append(json.loads(data))
    time.sleep(3)
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "-d", label, pid], check=True, capture_output=True)
    return out
counted("client_credentials", [dict(grant_type="client_credentials", scope="api")] * n)
tokens = counted("exchange", [dict(grant_type="authorization_code", code=c, redirect_uri=redirect, code_verifier=verifier) for c in codes])
counted("refresh", [dict(grant_type="refresh_token", refresh_token=t["refresh_token"]) for t in tokens])
PY

# Each dump holds what was counted since the one before, in the order above.
total() { awk '/^totals:/ {print $2; exit}' "$work/cg.out.$1"; }
cc=$(total 1); ex=$(total 2); rf=$(total 3)
echo "instructions per client_credentials token:           $(( cc / n ))"
echo "instructions per code exchange (incl. audit sealing): $(( ex / n ))"
echo "instructions per refresh (incl. audit sealing):       $(( rf / n ))"
