#!/usr/bin/env bash
# Builds the mediasoup worker offline from Debian libraries (issue #8; facts in
# ../shared/notes/mediasoup-offline.md). mediasoup's own postinstall downloads a prebuilt worker
# from GitHub, or lets meson download every dependency: neither works without internet.
#
# What this does, idempotently:
#   1. copies node_modules/mediasoup/worker to .cache/mediasoup-build/<version>/worker (node_modules
#      is never modified);
#   2. for each subproject wrap, writes a stand-in folder whose meson.build re-exports the Debian
#      library (pkg-config) under the variable names the worker's meson.build reads, with empty
#      static libraries where it expects `*_lib` objects; libsrtp3 becomes libsrtp2 plus a small
#      header mapping the libsrtp3 API (out-of-place protect/unprotect with size_t lengths) onto
#      libsrtp2's in-place calls;
#   3. meson (pip: meson==1.12.1, ninja==1.13.2 from the local mirror, in a venv under .cache)
#      with --wrap-mode=nodownload -Dms_disable_liburing=true, then ninja;
#   4. installs the binary as .cache/mediasoup-worker/<version>/mediasoup-worker.
# Skips everything when that binary exists and runs. Prints the binary path on the last line.
#
# Needs the Debian packages listed in scripts/setup.sh (MEDIASOUP_BUILD_PACKAGES).
# Env: MEDIASOUP_BUILD_JOBS (default: nproc), STCTS_MEDIASOUP_FORCE=1 (rebuild), STCTS_SKIP_MEDIASOUP=1
# (skip: exit 0 without a worker). Exits non-zero when mediasoup is not installed or the build fails.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

MS_DIR="$ROOT/node_modules/mediasoup"
if [ "${STCTS_SKIP_MEDIASOUP:-0}" = "1" ]; then
  echo "build-mediasoup: STCTS_SKIP_MEDIASOUP=1: not building the worker (the browser client then uses WebSocket PCM)"
  exit 0
fi
if [ ! -f "$MS_DIR/package.json" ]; then
  # npm drops an optional dependency whose install script failed and still exits 0 (issue #19).
  echo "build-mediasoup: ERROR node_modules/mediasoup is missing: npm dropped the optional package (its install" >&2
  echo "  script failed, typically trying to download its worker). Fix: run bash scripts/setup.sh (it sets" >&2
  echo "  MEDIASOUP_WORKER_BIN for npm ci), or set STCTS_SKIP_MEDIASOUP=1 to do without WebRTC." >&2
  exit 1
fi
VERSION="$(node -p "require('$MS_DIR/package.json').version")"
if [ -z "${MEDIASOUP_WORKER_BIN:-}" ] && [ -x "$MS_DIR/worker/out/Release/mediasoup-worker" ]; then
  echo "build-mediasoup: mediasoup's own worker is installed (online install); nothing to build"
  exit 0
fi
OUT_DIR="$ROOT/.cache/mediasoup-worker/$VERSION"
OUT_BIN="$OUT_DIR/mediasoup-worker"

if [ -x "$OUT_BIN" ] && [ "${STCTS_MEDIASOUP_FORCE:-0}" != "1" ]; then
  # A worker run without the env var it expects exits with a usage message: enough to prove it links.
  if "$OUT_BIN" --version >/dev/null 2>&1 || [ $? -ne 127 ]; then
    echo "build-mediasoup: already built"
    echo "$OUT_BIN"
    exit 0
  fi
fi

for tool in pkg-config python3 flatc cc c++; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-mediasoup: '$tool' not found; run scripts/setup.sh (Debian packages)" >&2; exit 1; }
done
for pc in libsrtp2 libuv openssl usrsctp flatbuffers absl_flat_hash_map absl_strings absl_optional absl_variant; do
  pkg-config --exists "$pc" || { echo "build-mediasoup: pkg-config '$pc' missing; run scripts/setup.sh (Debian packages)" >&2; exit 1; }
done

BUILD_ROOT="$ROOT/.cache/mediasoup-build/$VERSION"
SRC="$BUILD_ROOT/worker"
VENV="$ROOT/.cache/mediasoup-build/venv"
START_S=$(date +%s)

# meson ≥ 1.1 is required (Debian 12 has 1.0.1): a venv with the mirror's meson and ninja.
if [ ! -x "$VENV/bin/meson" ]; then
  echo "build-mediasoup: installing meson==1.12.1 ninja==1.13.2 into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --retries 0 meson==1.12.1 ninja==1.13.2 2>&1 | grep -v "^WARNING" || true
  [ -x "$VENV/bin/meson" ] || { echo "build-mediasoup: pip could not install meson==1.12.1 ninja==1.13.2" >&2; exit 1; }
fi
MESON="$VENV/bin/meson"
# meson finds ninja through $NINJA; Debian's 1.11.1 has a bug mediasoup avoids (tasks.py).
export NINJA="$VENV/bin/ninja"

rm -rf "$SRC"
mkdir -p "$BUILD_ROOT"
cp -a "$MS_DIR/worker" "$SRC"
rm -rf "$SRC/out" "$SRC/subprojects/packagecache"
SP="$SRC/subprojects"

# Fix in mediasoup's DTLS BIO callback (3.19.3): for a returning BIO_ctrl() it must hand back
# OpenSSL's result, but it compares `operationType == BIO_CB_RETURN` (never true: the operation is
# OR-ed in) and answers 1 to everything, e.g. BIO_get_ktls_send(). mediasoup's own OpenSSL is built
# without kernel TLS so nothing asks; Debian's has it, so OpenSSL skips its write buffer and the
# worker segfaults on the first DTLS handshake (measured: SIGSEGV in SSL_read on Chromium's
# ClientHello). The fix returns `ret` for every BIO_CB_RETURN operation.
DTLS_CPP="$SRC/src/RTC/DtlsTransport.cpp"
if grep -q '(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;' "$DTLS_CPP"; then
  sed -i 's/(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/(operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/' "$DTLS_CPP"
  echo "build-mediasoup: patched the DTLS BIO callback (BIO_CB_RETURN result)"
elif grep -q 'onSslBioOut' "$DTLS_CPP" && ! grep -q '(operationType & BIO_CB_RETURN)' "$DTLS_CPP"; then
  echo "build-mediasoup: warning: mediasoup $VERSION's DTLS BIO callback differs from 3.19.3; check it against Debian's OpenSSL (kernel TLS)" >&2
fi

wrap_dir() { sed -n 's/^directory *= *//p' "$SP/$1.wrap"; }

stand_in() { # name, meson.build text, [meson_options.txt text: the options the worker passes]
  local d
  d="$SP/$(wrap_dir "$1")"
  mkdir -p "$d"
  printf '%s\n' "$2" >"$d/meson.build"
  [ -z "${3:-}" ] || printf '%s\n' "$3" >"$d/meson_options.txt"
  : >"$d/empty.c"
  echo "$d"
}

stand_in openssl "project('openssl', 'c')
openssl_dep = dependency('openssl')
libcrypto_dep = dependency('libcrypto')
libssl_dep = dependency('libssl')
libcrypto_lib = static_library('crypto_standin', 'empty.c')
libssl_lib = static_library('ssl_standin', 'empty.c')" >/dev/null

stand_in libuv "project('libuv', 'c')
libuv_dep = dependency('libuv')
libuv = static_library('uv_standin', 'empty.c')" "option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)" >/dev/null

stand_in usrsctp "project('usrsctp', 'c')
usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('usrsctp_standin', 'empty.c')" "option('sctp_build_programs', type: 'boolean', value: false)" >/dev/null

stand_in flatbuffers "project('flatbuffers', 'c')
flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = static_library('flatbuffers_standin', 'empty.c')
meson.override_find_program('flatc', find_program('/usr/bin/flatc'))" >/dev/null

stand_in catch2 "project('catch2', 'c')
catch2_dep = declare_dependency()
catch2_with_main_dep = declare_dependency()" >/dev/null

stand_in abseil-cpp "project('abseil-cpp', 'c')
absl_container_dep = dependency('absl_flat_hash_map', 'absl_flat_hash_set', 'absl_inlined_vector')
absl_strings_dep = dependency('absl_strings', 'absl_str_format')
absl_types_dep = dependency('absl_optional', 'absl_variant', 'absl_span')
absl_base_dep = dependency('absl_base')
absl_container_lib = static_library('absl_standin', 'empty.c')" >/dev/null

SRTP_DIR=$(stand_in libsrtp3 "project('libsrtp3', 'c')
libsrtp3_dep = declare_dependency(dependencies: dependency('libsrtp2'), include_directories: include_directories('include'))
libsrtp3 = static_library('srtp3_standin', 'empty.c')" "option('crypto-library', type: 'string', value: 'openssl')
option('crypto-library-kdf', type: 'string', value: 'disabled')
option('tests', type: 'string', value: 'disabled')")
mkdir -p "$SRTP_DIR/include"
cat >"$SRTP_DIR/include/srtp.h" <<'EOF'
/* libsrtp3 (versatica fork) API used by mediasoup >= 3.15, mapped onto Debian's libsrtp2.
 * libsrtp3 protect/unprotect take an input buffer, an output buffer and size_t lengths;
 * libsrtp2 works in place with int lengths. The caller guarantees room for the trailer
 * (mediasoup checks len + SRTP_MAX_TRAILER_LEN against its buffer). Written by stcts'
 * scripts/build-mediasoup.sh. */
#ifndef STCTS_SRTP3_ON_SRTP2_H
#define STCTS_SRTP3_ON_SRTP2_H
#include <string.h>
#include <srtp2/srtp.h>

#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

static inline srtp_err_status_t stcts_srtp3_run(
  srtp_err_status_t (*fn)(srtp_t, void *, int *), srtp_t ctx, const uint8_t *in, size_t inLen,
  uint8_t *out, size_t *outLen, size_t trailer)
{
  if (inLen > 0x7fffffff) return srtp_err_status_bad_param;
  if (*outLen < inLen + trailer) return srtp_err_status_buffer_small;
  if (out != in) memmove(out, in, inLen);
  int len = (int)inLen;
  srtp_err_status_t err = fn(ctx, out, &len);
  if (err == srtp_err_status_ok) *outLen = (size_t)len;
  return err;
}
static inline srtp_err_status_t stcts_srtp3_protect(srtp_t ctx, const uint8_t *rtp, size_t rtpLen, uint8_t *srtp, size_t *srtpLen, size_t mkiIndex)
{
  (void)mkiIndex;
  return stcts_srtp3_run(srtp_protect, ctx, rtp, rtpLen, srtp, srtpLen, SRTP_MAX_TRAILER_LEN);
}
static inline srtp_err_status_t stcts_srtp3_unprotect(srtp_t ctx, const uint8_t *srtp, size_t srtpLen, uint8_t *rtp, size_t *rtpLen)
{
  return stcts_srtp3_run(srtp_unprotect, ctx, srtp, srtpLen, rtp, rtpLen, 0);
}
static inline srtp_err_status_t stcts_srtp3_protect_rtcp(srtp_t ctx, const uint8_t *rtcp, size_t rtcpLen, uint8_t *srtcp, size_t *srtcpLen, size_t mkiIndex)
{
  (void)mkiIndex;
  return stcts_srtp3_run(srtp_protect_rtcp, ctx, rtcp, rtcpLen, srtcp, srtcpLen, SRTP_MAX_TRAILER_LEN + 4);
}
static inline srtp_err_status_t stcts_srtp3_unprotect_rtcp(srtp_t ctx, const uint8_t *srtcp, size_t srtcpLen, uint8_t *rtcp, size_t *rtcpLen)
{
  return stcts_srtp3_run(srtp_unprotect_rtcp, ctx, srtcp, srtcpLen, rtcp, rtcpLen, 0);
}
#define srtp_protect stcts_srtp3_protect
#define srtp_unprotect stcts_srtp3_unprotect
#define srtp_protect_rtcp stcts_srtp3_protect_rtcp
#define srtp_unprotect_rtcp stcts_srtp3_unprotect_rtcp
/* Same signature (session, SSRC in network byte order); libsrtp3 renamed it. */
#define srtp_stream_remove srtp_remove_stream
#endif
EOF

# The wraps stay (meson finds a subproject through them) but their `directory` now exists, and
# --wrap-mode=nodownload forbids any download.

JOBS="${MEDIASOUP_BUILD_JOBS:-$(nproc)}"
cd "$SRC"
echo "build-mediasoup: meson setup (mediasoup $VERSION)"
"$MESON" setup out --buildtype=release --wrap-mode=nodownload -Dms_disable_liburing=true >"$BUILD_ROOT/meson-setup.log" 2>&1 \
  || { tail -40 "$BUILD_ROOT/meson-setup.log" >&2; exit 1; }
echo "build-mediasoup: ninja ($JOBS jobs; about 5 min on 2 cores)"
"$MESON" compile -C out flatbuffers-generator >"$BUILD_ROOT/ninja.log" 2>&1 \
  && "$MESON" compile -C out -j "$JOBS" mediasoup-worker >>"$BUILD_ROOT/ninja.log" 2>&1 \
  || { grep -B2 -A12 -m3 'error' "$BUILD_ROOT/ninja.log" >&2 || tail -40 "$BUILD_ROOT/ninja.log" >&2; exit 1; }

mkdir -p "$OUT_DIR"
install -m 0755 out/mediasoup-worker "$OUT_BIN"
strip "$OUT_BIN" 2>/dev/null || true
rm -rf "$SRC/out" # keep the cache small; the stand-ins stay for inspection
echo "build-mediasoup: built in $(( $(date +%s) - START_S )) s"
echo "$OUT_BIN"
