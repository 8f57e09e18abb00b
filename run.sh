#!/usr/bin/env bash
# The main job on the embedded default: installs missing prerequisites, then `dotnet run` of the AppHost.
set -euo pipefail
cd "$(dirname "$0")"
bash eng/prerequisites.sh
dotnet run --project Distill.AppHost -- "$@"
