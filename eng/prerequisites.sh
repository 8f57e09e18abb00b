#!/usr/bin/env bash
# Installs what the build and the tests need from Debian when it is missing: patchelf and g++ (the TorchSharp
# compatibility step on a libstdc++ without GLIBCXX_3.4.32), redis-server (the teacher's cache) and chromium (the
# dashboard's browser test drives Debian's Chromium with Playwright; no browser is downloaded).
set -euo pipefail
missing=()
command -v patchelf >/dev/null || missing+=(patchelf)
command -v g++ >/dev/null || missing+=(g++)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian..."
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
