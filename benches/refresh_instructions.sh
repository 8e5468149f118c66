#!/usr/bin/env bash
# Instructions per refresh-token request, counted by callgrind: repeatable for
# the same binary whatever else the machine does, unlike wall-clock figures on
# 2 shared cores. Compares builds exactly (benches/load.sh gives throughput).
#
#   benches/refresh_instructions.sh WARD_BINARY [N]     (default N = 100)
#
# Starts `ward serve` under `valgrind --tool=callgrind` on SQLite, signs in once
# and redeems a code (not counted), then zeroes the counters and makes N
# sequential refreshes with rotated tokens; prints the instructions of those N
# requests, every thread included (audit sealer, group-commit writer).
set -euo pipefail
ward="${1:?usage: benches/refresh_instructions.sh WARD_BINARY [N]}"; n="${2:-100}"
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
for v in $(env | grep -o '^WARD_[A-Z_]*'); do unset "$v"; done
export WARD_DATA_DIR="$work/data" WARD_LISTEN="127.0.0.1:$port" WARD_ISSUER="$base" WARD_LOG=warn
redirect="http://127.0.0.1:9/cb"
echo "bench-password-for-load" | "$ward" user add bench >/dev/null 2>&1
secret=$("$ward" client add bench --type confidential --first-party --redirect-uri "$redirect" \
  --grant-type authorization_code --grant-type refresh_token \
  --scope "openid profile offline_access" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$ward" serve > "$work/serve.out" 2> "$work/serve.err" &
vpid=$!
for _ in $(seq 1 600); do grep -q "ward ready" "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
rt=$(python3 - "$base" "$redirect" "$secret" <<'PY'
import http.client, re, sys, urllib.parse, base64, json, hashlib
base, redirect, secret = sys.argv[1:4]
u = urllib.parse.urlparse(base); host, port = u.hostname, u.port
verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
q = urllib.parse.urlencode(dict(response_type="code", client_id="bench", redirect_uri=redirect, scope="openid profile offline_access", code_challenge=challenge, code_challenge_method="S256"))
cookies = {}
def req(method, path, body=None, auth=None):
    c = http.client.HTTPConnection(host, port, timeout=600)
    h = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if auth: h["Authorization"] = auth
    if body is not None:
        h["Content-Type"] = "application/x-www-form-urlencoded"; body = urllib.parse.urlencode(body)
    c.request(method, path, body, h); r = c.getresponse(); data = r.read().decode()
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":
            name, val = v.split(";")[0].split("=", 1); cookies[name] = val
    return r.status, r.getheader("Location"), data
_, loc, _ = req("GET", "/authorize?" + q)
_, _, page = req("GET", loc)
field = lambda name: re.search(f'name="{name}" value="([^"]+)"', page).group(1)
_, loc, _ = req("POST", "/login", dict(interaction=field("interaction"), csrf=field("csrf"), username="bench", password="bench-password-for-load"))
while loc and "code=" not in loc:
    _, loc, _ = req("GET", loc)
code = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)["code"][0]
auth = "Basic " + base64.b64encode(f"bench:{secret}".encode()).decode()
_, _, t = req("POST", "/token", dict(grant_type="authorization_code", code=code, redirect_uri=redirect, code_verifier=verifier), auth)
print(json.loads(t)["refresh_token"])
PY
)
sleep 2
callgrind_control --zero "$vpid" >/dev/null 2>&1
python3 - "$base" "$secret" "$rt" "$n" <<'PY'
import http.client, sys, urllib.parse, base64, json
base, secret, rt, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = urllib.parse.urlparse(base)
auth = "Basic " + base64.b64encode(f"bench:{secret}".encode()).decode()
c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
for _ in range(n):
    c.request("POST", "/token", urllib.parse.urlencode(dict(grant_type="refresh_token", refresh_token=rt)), {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse(); body = json.loads(r.read())
    rt = body["refresh_token"]
PY
sleep 3
callgrind_control --dump "$vpid" >/dev/null 2>&1
sleep 2
kill "$vpid"; wait "$vpid" 2>/dev/null || true
# The dump after the refreshes is the second file (cg.out.1).
total=$(grep -m1 '^summary:' "$work/cg.out.1" | awk '{print $2}')
echo "$n refreshes: $total instructions ($(( total / n )) per refresh), $ward"
rm -rf "$work"
