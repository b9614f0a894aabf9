#!/usr/bin/env bash
# `make run`: lakectl end to end on a local directory lake, with no external services.
#
#   scripts/run.sh [PIPELINEDIR]    # default .lake; LAKECTL=path/to/lakectl to override
#
# Each step is a function step_NAME, run in the order of STEPS. To extend the demo
# (silver, gold, query, ...), write the step's function and add its name to STEPS;
# steps share the variables below. Running again starts a new demo in the same directory.
set -euo pipefail

PIPE=${1:-.lake} # the pipeline directory; its lake is $PIPE/lake
LAKECTL=${LAKECTL:-bin/lakectl}
EVENTS=${EVENTS:-20000} # events the generator sends
STREAM=events
LAKE="$PIPE/lake"
BRONZE="$LAKE/bronze/$STREAM"
SILVER="$LAKE/silver/$STREAM"
STEPS=(init ref ingest seal status silver query quarantine gold history vacuum)
export LAKECTL_PIPELINE="$PIPE" # every command reads $PIPE/lakectl.yaml

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

# free_port prints a loopback port that nothing listens on. It picks below 32768, the
# start of Linux's ephemeral range: a port there may be the local end of some open
# connection, which makes bind fail although nothing listens on it.
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 12768))
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

# The pipeline: lakectl.yaml (the store, the events stream, the Silver contract) and
# reference/users.csv, as `lakectl init` writes them. Each demo starts afresh: the
# ingest clock trick below puts events into an hour two hours back, and an hour that
# Silver has processed as sealed must not receive more. A directory that this demo
# did not create is never touched.
step_init() {
	if [[ -f $PIPE/.lakectl-demo ]]; then
		say "removing the previous demo in $PIPE"
		rm -rf "$PIPE"
	elif [[ -e $PIPE/lakectl.yaml ]]; then
		echo "$PIPE holds a pipeline that this demo did not create; give another directory: make run LAKE=DIR" >&2
		return 1
	fi
	say "pipeline: lakectl init $PIPE"
	run "$LAKECTL" init "$PIPE"
	touch "$PIPE/.lakectl-demo"
}

step_ref() {
	say "reference data: users, for the Silver enrichment (country, plan)"
	run "$LAKECTL" ref load users
}

# start_ingest starts the ingest service over HTTP on a free port, Kafka off, with
# extra flags $@; it sets PORT and INGEST_PID.
start_ingest() {
	PORT=$(free_port)
	printf '$ %s &\n' "$LAKECTL ingest --http 127.0.0.1:$PORT --brokers= $*"
	"$LAKECTL" ingest --http "127.0.0.1:$PORT" --brokers= --flush-interval 2s \
		--log-level warn "$@" 2>>"$WORK/ingest.log" &
	INGEST_PID=$!
	if ! wait_listening "$PORT" "$INGEST_PID"; then
		cat "$WORK/ingest.log" >&2
		echo "ingest did not start" >&2
		return 1
	fi
}

stop_ingest() {
	kill -TERM "$INGEST_PID"
	if ! wait "$INGEST_PID"; then
		cat "$WORK/ingest.log" >&2
		echo "ingest did not stop cleanly" >&2
		return 1
	fi
	INGEST_PID=
}

# Bronze: the ingest service takes NDJSON over HTTP; the generator sends synthetic
# events with duplicates, late and malformed ones. Bronze keeps them all, exactly as
# received; stopping the service commits what it holds.
#
# Silver only reads sealed ingest hours: an hour is sealed once the stream's mark has
# passed its end plus the grace (5 min). Rather than wait for the wall clock, the demo
# runs this ingest with its clock two hours back (the hidden testing flag
# --clock-offset), so the events land in an ingest hour two hours ago.
step_ingest() {
	say "ingest: $EVENTS events over HTTP into $BRONZE (ingest clock 2 h back, see above)"
	start_ingest --clock-offset -2h
	run "$LAKECTL" gen --url "http://127.0.0.1:$PORT/v1/streams/$STREAM/events" \
		--count "$EVENTS" --duplicates 0.01 --late 0.02 --malformed 0.005 | tee "$WORK/gen.json"
	stop_ingest
}

# A short run with the real clock: at its clean stop it commits the stream's mark at
# the real time, past the end of the shifted hour plus grace, so that hour is sealed
# by the same rule production uses (no --force).
step_seal() {
	say "seal: ingest with the real clock moves the stream's mark to now"
	start_ingest
	stop_ingest
}

step_status() {
	say "the lake's status: ledgers and sealed hours"
	run "$LAKECTL" status
}

step_silver() {
	say "silver: parse, check, dedupe and enrich every sealed hour not processed yet"
	run "$LAKECTL" run silver --pending
	say "silver again: a processed hour is not processed twice"
	run "$LAKECTL" run silver --pending
}

# json_field prints a number field of the one-object JSON file $1.
json_field() { grep -o "\"$2\": *[0-9]*" "$1" | grep -o '[0-9]*$'; }

step_query() {
	say "query: Silver against what gen says it sent"
	printf 'gen: unique valid event ids %s, malformed %s (of %s sent, %s duplicates, %s late)\n' \
		"$(json_field "$WORK/gen.json" unique_event_ids)" "$(json_field "$WORK/gen.json" malformed)" \
		"$(json_field "$WORK/gen.json" sent)" "$(json_field "$WORK/gen.json" duplicates)" "$(json_field "$WORK/gen.json" late)"
	run "$LAKECTL" query "SELECT count(*) AS events, count(DISTINCT event_id) AS event_ids,
		count(*) FILTER (country IS NULL OR plan IS NULL) AS not_enriched FROM silver.events"
	run "$LAKECTL" query "SELECT country, plan, count(*) AS events, sum(amount) AS amount
		FROM silver.events GROUP BY ALL ORDER BY events DESC LIMIT 5"
}

step_quarantine() {
	say "quarantine: every rejected row, with its reason"
	run "$LAKECTL" query "SELECT reason, count(*) AS rows FROM quarantine.events GROUP BY ALL ORDER BY rows DESC"
}

step_gold() {
	say "gold: build every stale day of the models (past days, from gen's late events; today is not complete yet)"
	run "$LAKECTL" run gold --stale
	say "gold: today's day now, as partial (it is rebuilt once complete); then nothing is stale"
	run "$LAKECTL" run gold --stale --force
	run "$LAKECTL" run gold --stale
	run "$LAKECTL" query "SELECT event_date, event_type, events, unique_users, total_amount, avg_amount
		FROM gold.daily_metrics ORDER BY event_date DESC, events DESC LIMIT 6"
}

step_history() {
	say "the Silver table's commits"
	run "$LAKECTL" table history "$SILVER"
}

step_vacuum() {
	say "what vacuum would delete from Bronze (nothing yet: files are kept for the retention period)"
	run "$LAKECTL" vacuum "$BRONZE" --dry-run
}

if [[ ! -x $LAKECTL ]]; then
	echo "no lakectl binary at $LAKECTL: run 'make build' first (make run does)" >&2
	exit 1
fi
for step in "${STEPS[@]}"; do
	"step_$step"
done
say "done: the pipeline is in $PIPE, its lake in $LAKE"
