#!/usr/bin/env bash
# Counts the golden files that one new main-menu item changes: exports a
# commit (default HEAD) to a temporary directory, adds an item every
# resident sees at ORDER (default 15: on the menu's first page), rewrites
# the goldens of the packages that have chat transcripts, and lists those
# that changed. Nothing in the work tree is touched.
#
#   scripts/menu-goldens.sh              # HEAD, order 15
#   scripts/menu-goldens.sh abc1234 45   # another commit, a later place
#
# Commits before the one -update flag (flowstest.Golden, 7 Dec 2026) need
# the old flags; UPDATE_CMD overrides the command:
#   UPDATE_CMD='go test ./flows/resident/ ./flows/team/ -update; go test ./cmd/cnsbot/ -run TestTranscripts -update-transcripts' \
#     scripts/menu-goldens.sh 3791b5f
set -euo pipefail
cd "$(dirname "$0")/.."
commit="${1:-HEAD}" order="${2:-15}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
git archive "$commit" | tar -x -C "$dir"
cd "$dir"
git init -q && git add -A && git -c user.name=x -c user.email=x@x commit -qm base
perl -0pi -e 's/(\n\te\.MenuItem\(flows\.MenuItem\{ID: "dennha")/\n\te.MenuItem(flows.MenuItem{ID: "newitem", Label: "resident.menu.services", Order: '"$order"', Flow: FlowServices})$1/' \
	flows/resident/resident.go
git diff --quiet && { echo "could not add a menu item to flows/resident/resident.go" >&2; exit 1; }
bash -c "${UPDATE_CMD:-go test -count=1 ./flows/resident/ ./flows/team/ ./cmd/cnsbot/ -run 'TestJourneys|TestTranscripts|TestDeadlines' -update}" >/dev/null || true
git status --short -- '*.golden'
echo "goldens changed: $(git status --short -- '*.golden' | wc -l)"
