#!/usr/bin/env bash
# Soak run: cnsbot under a steady, moderate load for a long while, to show
# that its resident memory and goroutines stay flat.
#
#   scripts/soak.sh                  # 10 minutes at 50 events/s from 500 returning users
#   DURATION=2m scripts/soak.sh      # shorter
#   RATE=100 USERS=1000 scripts/soak.sh
#
# It runs faults.TestSoak: the built service as a child process against its
# own Redis (append-only file, fsync always) and PostgreSQL started on free
# ports, a fake Zalo, and the fault suite's load generator. Every EVERY
# (10 s) it prints the service's resident memory (VmRSS from /proc),
# go_goroutines and the heap in use (from /metrics); at the end, whether
# every event was answered once and in order, and the verdict: "flat" when
# the average of the last third of the samples is within TOLERANCE percent
# (20) of the middle third's, for memory and goroutines alike. The first
# third is warm-up. Exit status 0 when flat and every event was answered.
#
# Needs redis-server and the PostgreSQL server binaries (initdb, postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

export SOAK_DURATION="${DURATION:-10m}"
export SOAK_RATE="${RATE:-50}"
export SOAK_USERS="${USERS:-500}"
export SOAK_EVERY="${EVERY:-10s}"
export SOAK_TOLERANCE="${TOLERANCE:-20}"

echo "soak: DURATION=$SOAK_DURATION RATE=$SOAK_RATE/s USERS=$SOAK_USERS EVERY=$SOAK_EVERY TOLERANCE=$SOAK_TOLERANCE%"
# -v streams the samples as they are taken; grep keeps the table and the
# verdict, and the test's own lines when it fails.
set +e
go test -count=1 -run '^TestSoak$' -v -timeout 0 ./faults/ 2>&1 |
  grep --line-buffered -v -E '^(=== RUN|=== PAUSE|=== CONT)' | grep --line-buffered -v -E '^\s+\{"time"'
status=${PIPESTATUS[0]}
exit "$status"
