#!/usr/bin/env bash
# Measures `creditkit serve` the way users meet it: a separate client
# process (`creditkit --server URL bench`, 64 callers, an idempotency key
# on every write) over TCP on 127.0.0.1, first on SQLite, then on a
# throwaway PostgreSQL cluster (fsync on) beside pgbench on the same
# cluster, in the same run. Bounded: DUR per phase (default 10s).
#
# usage: bench/server/run.sh [CREDITKIT_BINARY]   (as root: the cluster runs as postgres)
set -euo pipefail
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
CK=${1:-$root/creditkit}
DUR=${DUR:-10s}
CFG=$root/creditkit.example.yaml
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
W=$(mktemp -d); chmod 777 "$W"
out() { echo "== $*"; }

run_server() { # db-url port
  "$CK" --config "$CFG" --db "$1" migrate >/dev/null
  local key
  key=$("$CK" --config "$CFG" --db "$1" --json keys create --name bench --scope write | jq -r .secret)
  "$CK" --config "$CFG" --db "$1" serve --addr "127.0.0.1:$2" --log-format json >"$W/serve-$2.log" 2>&1 &
  local sp=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && break; sleep 0.1; done
  out "$1: 64 callers, $DUR"
  "$CK" --config "$CFG" --server "http://127.0.0.1:$2" --api-key "$key" --json bench --callers 64 --duration "$DUR" --warmup 2s || true
  kill "$sp"; wait "$sp" || true
}

run_server "sqlite:$W/s.db" 18181

pgd=$W/pg
su postgres -c "$pgbin/initdb -D $pgd -A trust -U postgres" >/dev/null
su postgres -c "$pgbin/pg_ctl -D $pgd -o '-p 15499 -k $W -c listen_addresses=127.0.0.1 -c max_connections=200' -l $W/pg.log -w start" >/dev/null
trap 'su postgres -c "$pgbin/pg_ctl -D $pgd -m fast stop" >/dev/null; rm -rf "$W"' EXIT
"$pgbin/psql" -h 127.0.0.1 -p 15499 -U postgres -c 'CREATE DATABASE ck' -c 'CREATE DATABASE pgb' >/dev/null
run_server "postgres://postgres@127.0.0.1:15499/ck?sslmode=disable" 18182
out "pgbench: 64 clients, $DUR"
sh "$root/bench/pgbench/run.sh" "postgres://postgres@127.0.0.1:15499/pgb?sslmode=disable" 64 "$DUR" 2>&1 | grep -E "^(tps|pgbench tps)" || true
