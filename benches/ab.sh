#!/usr/bin/env bash
# Interleaved A/B throughput of two builds of Ward on the token endpoint, for a
# machine too noisy to compare two runs of `benches/load.sh` made minutes apart.
#
#   benches/ab.sh BEFORE_BIN AFTER_BIN [ROUNDS] [SECONDS]     (defaults: 12 rounds of 3 s)
#
# Both servers run at once (SQLite, each its own data directory and loopback
# port), but only one is under load at a time: each round loads one, then the
# other (order alternating, ABBA), with wrk -t2 -c32 for SECONDS on
# client_credentials and then SECONDS on code exchange (fresh codes each round).
# The two halves of a round are seconds apart, so a slow spell of the machine
# (another tenant, CPU steal) hits both alike; the per-round ratio AFTER/BEFORE
# and its median across rounds are what to read, next to the plain means.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 2,13p "$0"; exit 2; }
bins=("$1" "$2")
for bin in "${bins[@]}"; do [ -x "$bin" ] || { echo "ab.sh: $bin is not an executable ward binary" >&2; exit 2; }; done
rounds="${3:-12}"
secs="${4:-3}"
# Codes a round: a quiet machine exchanges about 1,750 codes/s; leave room above that.
per_round=$(( secs * 2500 ))
conns=32
threads=2
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
redirect="http://127.0.0.1:9/cb"
top=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$top"' EXIT
for v in $(env | grep -o '^WARD_[A-Z_]*'); do unset "$v"; done

# Server `i`: its data directory, the user and client `bench` (as in load.sh), the running
# server, and its codes, split into one file a round.
prepare() {
  local i=$1 bin=${bins[$1]} dir="$top/$1" port
  mkdir -p "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "http://127.0.0.1:$port" > "$dir/base"
  export WARD_DATA_DIR="$dir/data" WARD_LISTEN="127.0.0.1:$port" WARD_ISSUER="http://127.0.0.1:$port" WARD_LOG=warn
  # The last round's codes wait through every earlier round: RFC 6749's 10 minutes, not the default 60 s.
  export WARD_TOKENS_AUTHORIZATION_CODE_SECONDS=600
  echo "bench-password-for-load" | "$bin" user add bench >/dev/null 2>&1
  "$bin" client add bench --type confidential --first-party --redirect-uri "$redirect" \
    --grant-type authorization_code --grant-type refresh_token --grant-type client_credentials \
    --scope "openid profile api offline_access" --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' > "$dir/secret"
  "$bin" serve > "$dir/serve.out" 2> "$dir/serve.err" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "ward ready" "$dir/serve.out" 2>/dev/null && break; sleep 0.05; done
  python3 benches/codes.py "$(cat "$dir/base")" "$redirect" "$challenge" $(( rounds * per_round )) "$dir/codes.txt"
  split -l "$per_round" -d -a 3 "$dir/codes.txt" "$dir/codes."
}

# One half-round on server `i`: "<client_credentials req/s> <code exchanges/s> <codes left over>".
measure() {
  local i=$1 round=$2 dir="$top/$1" base auth
  base=$(cat "$dir/base")
  auth="Basic $(printf 'bench:%s' "$(cat "$dir/secret")" | base64 -w0)"
  BODY="grant_type=client_credentials&scope=api" AUTH="$auth" \
    wrk -t$threads -c$conns -d"${secs}s" -s benches/wrk/post_form.lua "$base/token" > "$dir/cc.txt" 2>&1
  FILE="$dir/codes.$(printf %03d "$round")" KIND=code THREADS=$threads AUTH="$auth" VERIFIER="$verifier" REDIRECT="$redirect" \
    wrk -t$threads -c$conns -d"${secs}s" -s benches/wrk/one_time_tokens.lua "$base/token" > "$dir/ex.txt" 2>&1
  awk -v secs="$secs" -v codes="$per_round" '
    FILENAME ~ /cc.txt$/ && /Requests\/sec/ {cc=$2}
    FILENAME ~ /ex.txt$/ && /token responses:/ {ex=$3}
    END {printf "%s %.1f %d\n", cc, ex / secs, codes - ex}' "$dir/cc.txt" "$dir/ex.txt"
}

echo "preparing both servers ($rounds rounds of ${secs} s, $(( rounds * per_round )) codes each)..." >&2
prepare 0
prepare 1
echo "round order before_cc after_cc before_ex after_ex" > "$top/results"
for r in $(seq 0 $(( rounds - 1 ))); do
  if [ $(( r % 2 )) = 0 ]; then order="0 1"; else order="1 0"; fi
  declare -A got=()
  for i in $order; do got[$i]=$(measure "$i" "$r"); done
  read -r cc0 ex0 left0 <<< "${got[0]}"
  read -r cc1 ex1 left1 <<< "${got[1]}"
  [ "$left0" -gt 0 ] && [ "$left1" -gt 0 ] || echo "round $r ran out of codes: its exchange figure is a floor" >&2
  echo "$r $([ "$order" = "0 1" ] && echo AB || echo BA) $cc0 $cc1 $ex0 $ex1" | tee -a "$top/results" >&2
done
python3 - "$top/results" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:]]
for name, a, b in (("client_credentials req/s", 2, 3), ("code exchange tokens/s", 4, 5)):
    before = [float(r[a]) for r in rows]; after = [float(r[b]) for r in rows]
    ratios = [y / x for x, y in zip(before, after) if x > 0]
    print(f"{name:26} before mean {st.mean(before):9.1f} median {st.median(before):9.1f} | "
          f"after mean {st.mean(after):9.1f} median {st.median(after):9.1f} | "
          f"after/before: median of rounds {st.median(ratios) - 1:+.1%}, of means {st.mean(after) / st.mean(before) - 1:+.1%}")
PY
