#!/usr/bin/env bash
# `make run`: lakectl end to end on a local directory lake, with no external services.
#
#   scripts/run.sh [LAKEDIR]        # default .lake; LAKECTL=path/to/lakectl to override
#
# Each step is a function step_NAME, run in the order of STEPS. To extend the demo
# (silver, gold, query, ...), write the step's function and add its name to STEPS;
# steps share the variables below. Running again appends more events to the same lake.
set -euo pipefail

LAKE=${1:-.lake}
LAKECTL=${LAKECTL:-bin/lakectl}
EVENTS=${EVENTS:-20000} # events the generator sends
STREAM=events
BRONZE="$LAKE/bronze/$STREAM"
STEPS=(ingest show history status vacuum)

WORK=$(mktemp -d -t lakectl-run.XXXXXX)
INGEST_PID=
cleanup() {
	if [[ -n $INGEST_PID ]] && kill -0 "$INGEST_PID" 2>/dev/null; then
		kill -TERM "$INGEST_PID" && wait "$INGEST_PID" || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -t 1 ]]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
run() {
	printf '$ %s\n' "$*"
	"$@"
}

# free_port prints a loopback port that nothing listens on.
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "no free port found" >&2
	return 1
}

# wait_listening waits until the process $2 listens on port $1, failing if it exits.
wait_listening() {
	for _ in $(seq 100); do
		if (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Bronze: the ingest service takes NDJSON over HTTP; the generator sends synthetic
# events with duplicates, late and malformed ones. Bronze keeps them all, exactly as
# received; stopping the service commits what it holds.
step_ingest() {
	local port
	port=$(free_port)
	say "ingest: $EVENTS events over HTTP into $BRONZE"
	printf '$ %s &\n' "$LAKECTL ingest --lake $LAKE --http 127.0.0.1:$port"
	"$LAKECTL" ingest --lake "$LAKE" --http "127.0.0.1:$port" --flush-interval 2s \
		--log-level warn 2>"$WORK/ingest.log" &
	INGEST_PID=$!
	if ! wait_listening "$port" "$INGEST_PID"; then
		cat "$WORK/ingest.log" >&2
		echo "ingest did not start" >&2
		return 1
	fi
	run "$LAKECTL" gen --url "http://127.0.0.1:$port/v1/streams/$STREAM/events" \
		--count "$EVENTS" --duplicates 0.01 --late 0.02 --malformed 0.005
	kill -TERM "$INGEST_PID"
	if ! wait "$INGEST_PID"; then
		cat "$WORK/ingest.log" >&2
		echo "ingest did not stop cleanly" >&2
		return 1
	fi
	INGEST_PID=
}

step_show() {
	say "the Bronze table now"
	run "$LAKECTL" table show "$BRONZE"
}

step_history() {
	say "its commits"
	run "$LAKECTL" table history "$BRONZE"
}

step_status() {
	say "the lake's status: ledgers and sealed hours"
	run "$LAKECTL" status --lake "$LAKE"
}

step_vacuum() {
	say "what vacuum would delete (nothing yet: files are kept for the retention period)"
	run "$LAKECTL" vacuum "$BRONZE" --dry-run
}

if [[ ! -x $LAKECTL ]]; then
	echo "no lakectl binary at $LAKECTL: run 'make build' first (make run does)" >&2
	exit 1
fi
mkdir -p "$LAKE"
for step in "${STEPS[@]}"; do
	"step_$step"
done
say "done: the lake is in $LAKE"
