#!/usr/bin/env bash
# Short fuzz run of every fuzz target, for CI: each target gets FUZZTIME
# (default 10s) of new inputs on top of its committed seed corpus
# (testdata/fuzz/<Target>/ next to the test). A crash fails the run and
# leaves the failing input in that directory: commit it with the fix, so
# that it stays in the corpus.
#
#   scripts/fuzz.sh               # every target, 10 s each
#   FUZZTIME=1m scripts/fuzz.sh   # longer
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
FUZZTIME="${FUZZTIME:-10s}"

# package target
targets=(
  "./bot FuzzParseEvent"
  "./bot FuzzVerify"
  "./bot FuzzSplitText"
  "./vn FuzzFold"
  "./vn FuzzParsePhone"
  "./flows/team FuzzParseReport"
)

failed=0
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  if ! grep -rqs --include='*_test.go' "^func ${name}(" "$pkg"; then
    echo "fuzz: $pkg $name: no such target" >&2
    failed=1
    continue
  fi
  echo "fuzz: $pkg $name ($FUZZTIME)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"; then
    failed=1
  fi
done
exit "$failed"
