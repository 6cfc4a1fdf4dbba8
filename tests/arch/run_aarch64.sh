#!/usr/bin/env bash
# Cross-builds the gid and arch layer for aarch64 (preset `aarch64`: GIDLOG_GID_ONLY=ON, no fmt)
# and runs its tests under qemu-user through CMAKE_CROSSCOMPILING_EMULATOR.
# Needs g++-aarch64-linux-gnu and qemu-user (Debian packages; dev.sh installs them).
# Usage: tests/arch/run_aarch64.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run_aarch64.sh: $tool not found (apt-get install g++-aarch64-linux-gnu qemu-user)" >&2
    exit 1
  fi
done

cmake --preset aarch64
cmake --build --preset aarch64 -j2
ctest --preset aarch64 "$@"
