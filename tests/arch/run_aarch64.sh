#!/usr/bin/env bash
# Cross-builds gidlog for aarch64 and runs its tests under qemu-user through ctest
# (CMAKE_CROSSCOMPILING_EMULATOR; see cmake/toolchains/aarch64-linux-gnu.cmake).
#
#   tests/arch/run_aarch64.sh [ctest arguments]        preset `aarch64`: the whole logger (library,
#       examples, unit, integration and arch tests). The test preset leaves out the consumer label
#       (those tests build natively), the bench label (no benchmarks in this build), and the
#       lifecycle tests named "... start() in the child ..." and "fork() at once after start() ...":
#       they start a thread in the fork() child of a multi-threaded process, which qemu-user 7.2
#       (Debian 12) cannot emulate; it aborts with "cpu_exec: assertion failed: (cpu ==
#       current_cpu)" whatever the program (a 15-line std::thread + fork() + std::thread program
#       does the same). Natively they run.
#       Also left out: the journald sink's "... through a sealed memfd" test: qemu-user 7.2 returns
#       0 from a sendmsg() that carries no data bytes without sending it, so the empty datagram
#       with the memfd (SCM_RIGHTS) never reaches journald.
#   tests/arch/run_aarch64.sh --gid [ctest arguments]  preset `aarch64-gid`: the gid and arch layer
#       alone (GIDLOG_GID_ONLY, no fmt), which needs no arm64 packages
#
# Tests run as `qemu-aarch64 -L / -E GIDLOG_TEST_EMULATOR=...,GIDLOG_TEST_TIME_SCALE=20 <test>`:
# see the toolchain file for why.
#
# It installs nothing: it checks for the tools and the arm64 packages and names the commands that
# install what is missing (dev.sh installs them). JOBS (default: nproc) bounds build and ctest.
set -euo pipefail
cd "$(dirname "$0")/../.."

preset=aarch64
if [ "${1:-}" = "--gid" ]; then
  preset=aarch64-gid
  shift
fi
JOBS=${JOBS:-$(nproc)}

missing_host=()
for tool in cmake:cmake aarch64-linux-gnu-g++:g++-aarch64-linux-gnu qemu-aarch64:qemu-user; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing_host+=("${tool#*:}")
done
# Header-only host packages the tests build against (the target uses the host's copies).
[ -f /usr/lib/cmake/Catch2/Catch2Config.cmake ] || missing_host+=(catch2)
if [ "$preset" = aarch64 ]; then
  [ -f /usr/include/concurrentqueue/concurrentqueue.h ] || missing_host+=(libconcurrentqueue-dev)
fi
if [ ${#missing_host[@]} -gt 0 ]; then
  echo "run_aarch64.sh: missing host packages; install them with:" >&2
  echo "    apt-get install ${missing_host[*]}" >&2
  exit 1
fi

if [ "$preset" = aarch64 ] && [ ! -f /usr/lib/aarch64-linux-gnu/cmake/fmt/fmt-config.cmake ]; then
  # libfmt-dev:arm64 brings fmt's arm64 library and CMake config, and with them the arm64 C and
  # C++ run-time (libc6, libstdc++6, libgcc-s1 :arm64) that qemu runs the tests against.
  echo "run_aarch64.sh: fmt for arm64 is missing (package libfmt-dev:arm64, Debian multiarch)." >&2
  echo "Install it with (as root):" >&2
  if ! dpkg --print-foreign-architectures 2>/dev/null | grep -qx arm64; then
    echo "    dpkg --add-architecture arm64" >&2
  fi
  echo "    apt-get update" >&2
  echo "    apt-get install libfmt-dev:arm64" >&2
  echo "or run only the gid and arch layer, which needs no arm64 packages: $0 --gid" >&2
  exit 1
fi

echo "run_aarch64.sh: preset $preset"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$JOBS"
# --no-tests=error: a -L/-R selection that matches nothing fails instead of passing silently.
ctest --preset "$preset" -j"$JOBS" --no-tests=error "$@"
