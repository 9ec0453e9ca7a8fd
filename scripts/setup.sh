#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 machine: Debian packages for the embedded engines, then
# npm ci (which builds the native addons through the postinstall script). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the embedded engines need (see README "Engines").
PACKAGES=(
  build-essential pkg-config python3
  pocketsphinx-en-us libpocketsphinx-dev libsphinxbase-dev pocketsphinx sphinxbase-utils
  festival festvox-us-slt-hts libhtsengine-dev
  codec2 sox flac
  # Browser client (issue #8): headless-Chromium test, and the mediasoup worker built from Debian
  # libraries by scripts/build-mediasoup.sh (its runtime libraries come with these -dev packages).
  chromium
  libssl-dev libuv1-dev libsrtp2-dev libabsl-dev libusrsctp-dev libflatbuffers-dev flatbuffers-compiler
  python3-venv
  # TLS test certificate (test/daemon/tls.test.ts), issue #19.
  openssl
  # Real thin links (issues #14-#18): KISS TNC soft modem, FreeDV modems, PTT, pty emulators,
  # ALSA audio I/O, the recognizer-adaptation tools, and the shore gateway's message engine.
  direwolf libcodec2-dev libhamlib-utils socat alsa-utils sphinxtrain nats-server
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"
  else
    echo "setup: not root and no passwordless sudo. Run this, then run setup again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js 20 is required (apt-get install nodejs npm, or nodesource)." >&2
  exit 1
fi

echo "setup: npm ci"
# mediasoup's postinstall would try to download (or pip-build) its worker and, failing offline, npm
# would silently drop the optional package. Pointing it at the worker scripts/build-mediasoup.sh
# builds below makes it skip that step (an already exported MEDIASOUP_WORKER_BIN is kept).
MEDIASOUP_WORKER_BIN="${MEDIASOUP_WORKER_BIN:-$PWD/.cache/mediasoup-worker/3.19.3/mediasoup-worker}" npm ci --no-audit --no-fund
# npm ≥ 11.10 skips the root postinstall of some configurations; build explicitly (idempotent).
node scripts/build-native.mjs
node scripts/build-models.mjs
# mediasoup's postinstall cannot fetch its worker offline; build it from Debian libraries (skipped
# when built already or when an online install shipped one). STCTS_SKIP_MEDIASOUP=1 skips it: the
# browser client then uses WebSocket PCM.
if [ "${STCTS_SKIP_MEDIASOUP:-0}" != "1" ]; then
  bash scripts/build-mediasoup.sh
fi
echo "setup: done"
