#!/usr/bin/env bash
# Installs what the build and the tests need from Debian when it is missing: patchelf and g++ (the TorchSharp
# compatibility step on a libstdc++ without GLIBCXX_3.4.32) and redis-server (the teacher's cache).
set -euo pipefail
missing=()
command -v patchelf >/dev/null || missing+=(patchelf)
command -v g++ >/dev/null || missing+=(g++)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian..."
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
