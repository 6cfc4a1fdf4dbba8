#!/usr/bin/env bash
# gidlog developer entry point.
#   ./dev.sh demo    install what is missing, build, run the example service
#   ./dev.sh test    install what is missing, build, run every test through ctest
#   ./dev.sh bench   release build, then the benchmark tables of the README
set -euo pipefail
cd "$(dirname "$0")"

JOBS=${JOBS:-$(nproc)}
PACKAGES=(g++ clang cmake make libfmt-dev libconcurrentqueue-dev catch2 libbenchmark-dev
          libspdlog-dev g++-aarch64-linux-gnu qemu-user)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {  # build PRESET [targets...]
  local preset=$1; shift
  cmake --preset "$preset" >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build --preset "$preset" -j"$JOBS" --target "$@"
  else
    cmake --build --preset "$preset" -j"$JOBS"
  fi
}

cmd=${1:-help}
case "$cmd" in
  demo)
    install_deps
    build release service quick_start
    cd build/release
    echo "== examples/quick_start.cpp =="
    ./examples/quick_start
    if [ -x ./examples/service ]; then
      echo; echo "== examples/service.cpp =="
      ./examples/service
    fi
    ;;
  test)
    install_deps
    start=$(date +%s)
    echo "== release build: unit, integration, consumer and benchmark smoke tests =="
    build release
    ctest --preset release -j"$JOBS"
    echo "== ThreadSanitizer build (clang) =="
    build tsan
    # die_after_fork=0: a fork test may start a thread in the child, which TSan cannot follow
    # but the test checks by itself. tests/tsan.supp says why each suppression exists.
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0 suppressions=$PWD/tests/tsan.supp" \
      ctest --preset tsan -j"$JOBS" -LE "consumer|bench"
    echo "== AddressSanitizer + UBSan build (g++) =="
    build asan
    ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1" \
      ctest --preset asan -j"$JOBS" -LE "consumer|bench"
    if [ -x tests/arch/run_aarch64.sh ]; then
      echo "== aarch64 cross build, gid and arch tests under qemu =="
      tests/arch/run_aarch64.sh
    fi
    echo "dev.sh test: all passed in $(( $(date +%s) - start )) s"
    ;;
  bench)
    install_deps
    build release
    cd build/release
    for b in bench/bm_*; do [ -x "$b" ] && "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true; done
    [ -x bench/latency ] && bench/latency --records 200000
    [ -x bench/throughput ] && bench/throughput
    ;;
  *)
    sed -n '2,6p' "$0"
    exit 2
    ;;
esac
