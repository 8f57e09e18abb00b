#!/usr/bin/env bash
# The test command: installs missing prerequisites, then `dotnet test Distill.sln`.
set -euo pipefail
cd "$(dirname "$0")"
bash eng/prerequisites.sh
dotnet test Distill.sln --logger "console;verbosity=normal" "$@"
