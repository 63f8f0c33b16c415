#!/usr/bin/env bash
# Build the Karapace WebAssembly module reproducibly with the pinned Zig.
#
#   bash native/build.sh [OUTPUT]      (default: wasm/karapace.wasm)
#
# Zig comes from PyPI (`pip install ziglang==0.15.2`) and runs as `python3 -m ziglang`;
# set ZIG to another command to override, the version check still applies.
# The build goes to a temporary prefix and the module is copied into place only once
# it is complete, so a failed build never leaves a half-written OUTPUT.
set -euo pipefail

ZIG_VERSION=0.15.2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=${1:-$repo/wasm/karapace.wasm}
read -r -a zig <<<"${ZIG:-python3 -m ziglang}"

have=$("${zig[@]}" version 2>/dev/null) || {
  echo "native/build.sh: cannot run '${zig[*]}': install Zig with 'pip install ziglang==$ZIG_VERSION'" >&2
  exit 1
}
if [[ $have != "$ZIG_VERSION" ]]; then
  echo "native/build.sh: Zig $ZIG_VERSION is required for a byte-identical wasm/karapace.wasm, found $have" >&2
  echo "  fix: pip install ziglang==$ZIG_VERSION" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A private cache keeps stale artifacts from another checkout out of the result.
(cd "$here" && "${zig[@]}" build --prefix "$tmp/prefix" \
  --cache-dir "$tmp/cache" --global-cache-dir "${ZIG_GLOBAL_CACHE_DIR:-$tmp/global-cache}")

built=$(find "$tmp/prefix" -name karapace.wasm -type f | head -n 1)
if [[ -z $built ]]; then
  echo "native/build.sh: zig build finished but installed no karapace.wasm under its prefix" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
cp "$built" "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
echo "native/build.sh: wrote $out ($(stat -c %s "$out") bytes, blake3 $(b3sum --no-names "$out" 2>/dev/null || echo '?'))"
