#!/usr/bin/env bash
# HTTP load benchmark of the OpenID Connect endpoints, on loopback, SQLite, release build.
#
#   benches/load.sh [DURATION_SECONDS] [CONNECTIONS]     (defaults: 10 s, 32 connections)
#
# Load generator: wrk (Debian package `wrk`, C, epoll; 2 threads). It shares the
# machine's 2 cores with Ward, so the figures are a lower bound for Ward alone.
# Prints requests/s, p50 and p99 for discovery, JWKS, client_credentials,
# introspection, authorization-code exchange and refresh, and the database
# statements per code exchange and per refresh (from /metrics) and the server's
# CPU time per code exchange and per refresh (from /proc), both read once the
# audit sealer has caught up, so they include its share: on a shared machine the
# CPU time per request varies far less from run to run than requests/s.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
conns="${2:-32}"
threads=2
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk); }
# BENCH_DATABASE_URL=postgres://... runs the same benchmark on PostgreSQL (a fresh database is created).
source benches/setup.sh
secret=$("$ward" client add bench --type confidential --first-party --redirect-uri "$redirect" ${BENCH_CLIENT_ARGS:-} \
  --grant-type authorization_code --grant-type refresh_token --grant-type client_credentials \
  --scope "openid profile api offline_access" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
auth="Basic $(printf 'bench:%s' "$secret" | base64 -w0)"

start_ward

verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
ncodes=$(( duration * 2500 ))
echo "preparing $ncodes authorization codes (one sign-in, then single sign-on)..." >&2
python3 benches/codes.py "$base" "$redirect" "$challenge" "$ncodes" "$work/codes.txt"

metric() { curl -s "$base/metrics" | awk -v m="$1" '$1==m {print $2}'; }
# The server's user + system CPU time so far, in clock ticks, once the audit
# sealer (every 0.5 s) has chained what the last run left pending.
cpu() { sleep 1.5; awk '{print $14 + $15}' "/proc/$pid/stat"; }
summary() { # name, wrk output file
  awk -v name="$1" '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /token responses:/ {tok=$3}
    END {if (tok != "") rps = sprintf("%.2f", tok / secs);
         printf "%-28s %10s req/s   p50 %8s   p99 %8s%s\n", name, rps, p50, p99, (tok != "" ? "   (" tok " tokens issued)" : "")}' secs="${3:-$duration}" "$2"
}
run() { # name, wrk args...  ($RUN_SECONDS overrides the duration)
  local name="$1"; shift
  local secs="${RUN_SECONDS:-$duration}"
  wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@" > "$work/$name.txt" 2>&1
  summary "$name" "$work/$name.txt" "$secs"
}

echo "Ward load benchmark: ${duration}s per endpoint, $conns connections, wrk -t$threads, $backend, $(nproc) cores"
run discovery "$base/.well-known/openid-configuration"
run jwks "$base/jwks"
BODY="grant_type=client_credentials&scope=api" AUTH="$auth" run client_credentials -s benches/wrk/post_form.lua "$base/token"
token=$(curl -s -u "bench:$secret" -d grant_type=client_credentials -d scope=api "$base/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
BODY="token=$token" AUTH="$auth" run introspection -s benches/wrk/post_form.lua "$base/introspect"

c0=$(cpu)
s0=$(metric ward_db_statements_total); t0=$(metric ward_db_transactions_total)
FILE="$work/codes.txt" OUT="$work/rt" KIND=code THREADS=$threads AUTH="$auth" VERIFIER="$verifier" REDIRECT="$redirect" \
  run code_exchange -s benches/wrk/one_time_tokens.lua "$base/token"
c1=$(cpu)
s1=$(metric ward_db_statements_total); t1=$(metric ward_db_transactions_total)
exchanged=$(awk '/token responses:/ {print $3}' "$work/code_exchange.txt")
cat "$work"/rt.* > "$work/refresh_tokens.txt" 2>/dev/null || true
# Refresh tokens come from the code exchanges; run half as long so they do not run out.
RUN_SECONDS=$(( (duration + 1) / 2 )) FILE="$work/refresh_tokens.txt" KIND=refresh THREADS=$threads AUTH="$auth" run refresh -s benches/wrk/one_time_tokens.lua "$base/token"
c2=$(cpu)
s2=$(metric ward_db_statements_total)
refreshed=$(awk '/token responses:/ {print $3}' "$work/refresh.txt")
python3 - "$s0" "$s1" "$s2" "$exchanged" "$refreshed" "$t0" "$t1" "$c0" "$c1" "$c2" "$(getconf CLK_TCK)" <<'PY'
import sys
s0, s1, s2, ex, rf, t0, t1, c0, c1, c2, hz = (float(x or 0) for x in sys.argv[1:])
if ex: print(f"statements per code exchange (incl. audit sealing): {(s1 - s0) / ex:.1f}; transactions per exchange: {(t1 - t0) / ex:.2f}")
if rf: print(f"statements per refresh (incl. audit sealing):       {(s2 - s1) / rf:.1f}")
if ex: print(f"server CPU per code exchange (incl. audit sealing): {(c1 - c0) / hz / ex * 1e6:.0f} us")
if rf: print(f"server CPU per refresh (incl. audit sealing):       {(c2 - c1) / hz / rf * 1e6:.0f} us")
PY
