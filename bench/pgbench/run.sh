#!/bin/sh
# Runs the "one guarded debit + one journal insert per commit" reference on a
# PostgreSQL database and prints its rate.
#
# usage: run.sh CONN_URL CLIENTS DURATION
#
#   CONN_URL  a postgres:// URL of a database the script may fill (it drops
#             and recreates the tables accounts and journal)
#   CLIENTS   pgbench clients (concurrent connections)
#   DURATION  seconds to run, like 10 or 10s
#
# It loads setup.sql (1000 accounts), runs
#   pgbench -n -f debit.sql -c CLIENTS -j min(2,CLIENTS) -T DURATION
# and ends with the line "pgbench tps: N". psql and pgbench come from PATH,
# else from the newest /usr/lib/postgresql/*/bin.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 CONN_URL CLIENTS DURATION" >&2
	exit 2
fi
url=$1
clients=$2
duration=${3%s}
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

find_bin() {
	if command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
		return 0
	fi
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		if [ -x "$dir/$1" ]; then
			echo "$dir/$1"
			return 0
		fi
	done
	echo "run.sh: $1 not found on PATH or in /usr/lib/postgresql/*/bin" >&2
	return 1
}
psql=$(find_bin psql)
pgbench=$(find_bin pgbench)

threads=2
if [ "$clients" -lt 2 ]; then
	threads=$clients
fi

"$psql" -X -q -v ON_ERROR_STOP=1 -d "$url" -f "$here/setup.sql" >/dev/null
"$psql" -X -q -A -t -d "$url" -c "SELECT 'postgres ' || version() || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')"

out=$("$pgbench" -n -f "$here/debit.sql" -c "$clients" -j "$threads" -T "$duration" "$url" 2>&1) || {
	echo "$out" >&2
	exit 1
}
echo "$out"
tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -n 1)
if [ -z "$tps" ]; then
	echo "run.sh: no tps line in pgbench's output" >&2
	exit 1
fi
echo "pgbench tps: $tps"
