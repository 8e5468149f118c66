# Sourced by the HTTP benchmarks: a release `ward` (or $WARD_BIN), a fresh data
# directory on a free loopback port, SQLite or (with BENCH_DATABASE_URL=postgres://...)
# a fresh PostgreSQL database, the user `bench` and the redirect URI. Defines
# `start_ward` (serve until the script exits) and sets: ward, work, base, backend, redirect.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ward-target}"
# WARD_BIN=path/to/ward measures a given build (e.g. an older commit's) instead.
if [ -n "${WARD_BIN:-}" ]; then
  ward="$WARD_BIN"
else
  cargo build --release --quiet
  ward="$CARGO_TARGET_DIR/release/ward"
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
for v in $(env | grep -o '^WARD_[A-Z_]*'); do unset "$v"; done
export WARD_DATA_DIR="$work/data" WARD_LISTEN="127.0.0.1:$port" WARD_ISSUER="$base" WARD_LOG=warn
backend="SQLite"
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  db="ward_bench_$$"
  psql "$BENCH_DATABASE_URL" -qc "CREATE DATABASE $db"
  export WARD_DATABASE_URL="${BENCH_DATABASE_URL%/*}/$db"
  backend="PostgreSQL"
fi
redirect="http://127.0.0.1:9/cb"
echo "bench-password-for-load" | "$ward" user add bench >/dev/null

start_ward() {
  "$ward" serve > "$work/serve.out" 2> "$work/serve.err" &
  pid=$!
  trap cleanup EXIT
  for _ in $(seq 1 100); do grep -q "ward ready" "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
}

cleanup() {
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  [ -n "${db:-}" ] && psql "$BENCH_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
