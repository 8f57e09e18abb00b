#!/usr/bin/env bash
# The test command: installs missing prerequisites, then `dotnet test Distill.sln`.
# Test assemblies run in parallel and their output interleaves, so on a failure the last lines repeat each failed
# test with its message: a log that keeps only its tail (CI) still says what failed.
set -euo pipefail
cd "$(dirname "$0")"
bash eng/prerequisites.sh
log="$(mktemp -t distill-test.XXXXXX.log)"
status=0
dotnet test Distill.sln --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  echo
  echo "=== dotnet test exited with $status; failed tests and build errors (full log: $log) ==="
  # A failed test prints "  Failed Name [time]", then its message and stack trace until the next result line.
  awk '/^[[:space:]]+Failed [^ ]/ { show = 1; n = 0 }
       /^[[:space:]]+(Passed|Skipped) [^ ]/ { show = 0 }
       show && n++ < 25 { print }
       / error [A-Z]+[0-9]+: / { print }' "$log" | cut -c1-400 | tail -n 150
fi
exit "$status"
