#!/usr/bin/env bash
# gidlog developer entry point.
#   ./dev.sh demo          install what the demo needs, build, run the examples
#   ./dev.sh test          install what the tests need, run every test through ctest
#                          (release, ThreadSanitizer, ASan + UBSan, aarch64 under qemu)
#   ./dev.sh test-aarch64  the aarch64 cross build and its tests under qemu alone
#   ./dev.sh bench         release build, then the benchmark tables of the README
#   ./dev.sh fresh         as root: the two commands above in a new minimal Debian 12 root
set -euo pipefail
cd "$(dirname "$0")"

JOBS=${JOBS:-$(nproc)}

# What each command installs with apt-get when it is missing (Debian 12 package names). Each list
# is exactly what that command's presets use; `fresh` checks them on a machine that has nothing.
DEMO_PACKAGES=(g++ make cmake libfmt-dev libconcurrentqueue-dev
               libdw-dev libcpp-httplib-dev              # thread stacks' file:line, debug_server
               libcli11-dev libsimdjson-dev zlib1g-dev)  # gidlog-trace (tools/trace): arguments, JSON lines, .gz;
                                                         # zlib also gzips rotated files (the library)
TEST_PACKAGES=("${DEMO_PACKAGES[@]}" catch2 libbenchmark-dev libspdlog-dev pkg-config binutils
               python3                                   # bench/compile_cost.py (its smoke test)
               nlohmann-json3-dev                        # parses the JSON sink's output (tests only)
               chromium                                  # draws gidlog-trace's timeline page (tests/trace)
               rsyslog                                   # syslog_sink's tests run their own rsyslogd
               systemd                                   # journald_sink's tests run a private systemd-journald, journalctl
               rsyslog-relp                              # RELP for the fleet recipe (examples/rsyslog)
               clang libclang-rt-14-dev llvm-14          # TSan build: runtime and symbolizer
               g++-aarch64-linux-gnu qemu-user          # aarch64 cross build, run under qemu
               libfmt-dev:arm64                          # fmt for the aarch64 build (multiarch)
               libdw-dev:arm64 libcpp-httplib-dev:arm64  # src/introspect in the aarch64 build
               zlib1g-dev:arm64)                         # gzip of rotated files in the aarch64 build
BENCH_PACKAGES=("${DEMO_PACKAGES[@]}" libbenchmark-dev libspdlog-dev)
FRESH_PACKAGES=(debootstrap git)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_deps() {  # install_deps PACKAGE... : apt-get install the ones not installed
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "dev.sh: enabling the arm64 architecture for multiarch packages (dpkg --add-architecture arm64)"
    as_root dpkg --add-architecture arm64
  fi
  echo "dev.sh: installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

die() { echo "dev.sh: $*" >&2; exit 1; }

# Fails early, naming the package, when a tool `test` needs is absent (instead of a CMake error
# deep inside a try-compile, or a sanitizer report with unreadable stacks).
check_test_tools() {
  local tool pkg
  for tool in g++:g++ clang++:clang cmake:cmake ctest:cmake pkg-config:pkg-config readelf:binutils \
              llvm-symbolizer-14:llvm-14 aarch64-linux-gnu-g++:g++-aarch64-linux-gnu qemu-aarch64:qemu-user \
              python3:python3; do
    pkg=${tool#*:}; tool=${tool%%:*}
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found: apt-get install $pkg"
  done
  # In /usr/sbin, which a user's PATH may lack. The tests start rsyslogd themselves, never the service.
  [ -x /usr/sbin/rsyslogd ] || command -v rsyslogd >/dev/null 2>&1 ||
    die "'rsyslogd' not found (syslog_sink is tested against a real rsyslog): apt-get install rsyslog"
  # The journald tests start systemd-journald themselves in a private mount namespace (as root).
  [ -x /lib/systemd/systemd-journald ] && command -v journalctl >/dev/null 2>&1 ||
    die "systemd-journald or journalctl not found (journald_sink is tested against a real journald): apt-get install systemd"
  local probe
  probe=$(mktemp -d)
  echo 'int main() { return 0; }' > "$probe/t.cpp"
  clang++ -fsanitize=thread "$probe/t.cpp" -o "$probe/t" 2>"$probe/err" ||
    { cat "$probe/err" >&2; rm -rf "$probe"; die "clang++ cannot link -fsanitize=thread: apt-get install libclang-rt-14-dev"; }
  g++ -fsanitize=address,undefined "$probe/t.cpp" -o "$probe/t" 2>"$probe/err" ||
    { cat "$probe/err" >&2; rm -rf "$probe"; die "g++ cannot link -fsanitize=address,undefined (libasan8, libubsan1 come with g++-12)"; }
  rm -rf "$probe"
  [ -f /usr/share/cmake/nlohmann_json/nlohmann_jsonConfig.cmake ] ||
    die "nlohmann/json is missing (the tests parse the JSON sink's output with it): apt-get install nlohmann-json3-dev"
  # gidlog-trace's page test loads the page in a real browser; without one it fails, never skips.
  command -v chromium >/dev/null 2>&1 ||
    die "'chromium' not found (tests/trace draws the timeline page in headless chromium): apt-get install chromium"
  [ -f /usr/lib/aarch64-linux-gnu/cmake/fmt/fmt-config.cmake ] ||
    die "fmt for arm64 is missing: dpkg --add-architecture arm64 && apt-get update && apt-get install libfmt-dev:arm64"
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
    install_deps "${DEMO_PACKAGES[@]}"
    build demo
    cd build/demo
    echo "== examples/quick_start.cpp =="
    ./examples/quick_start
    echo; echo "== examples/service.cpp =="
    ./examples/service | tee service.log
    # gidlog-trace (tools/trace), README "Tracing a request": the run above summarised from its
    # JSON-lines copy, then one request followed through the pool in its console copy (the %C
    # pattern; the continuation lines of multi-line messages are counted as bad lines).
    echo; echo "== gidlog-trace summary (the JSON-lines copy) =="
    ./tools/trace/gidlog-trace summary "${TMPDIR:-/tmp}/gidlog-service.jsonl"
    echo; echo "== gidlog-trace follow --field req=r-2 (the console output above) =="
    ./tools/trace/gidlog-trace --pattern '[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v%C' --max-errors 0 \
      follow --field req=r-2 service.log
    ;;
  test)
    install_deps "${TEST_PACKAGES[@]}"
    check_test_tools
    start=$(date +%s)
    # Each phase says when it starts, in seconds since the first: CI's budget is 20 minutes.
    phase() { echo "== [$(( $(date +%s) - start )) s] $* =="; }
    symbolizer=$(command -v llvm-symbolizer-14)
    phase "release build: unit, integration, consumer and benchmark smoke tests"
    build release
    ctest --preset release -j"$JOBS"
    phase "ThreadSanitizer build (clang)"
    build tsan
    # die_after_fork=0: a fork test may start a thread in the child, which TSan cannot follow
    # but the test checks by itself. No suppressions for gidlog's own code: the ring hand-off is
    # plain acquire/release atomics, so a report means a real race even when stacks cannot be
    # symbolized; the symbolizer is named only to make such a report readable. The compile_fail
    # tests (compiler diagnostics, nothing runs) are left to the release build here and below, and so
    # are the footprint tests (resident memory and wake-ups: the sanitizers' shadow memory and
    # threads would be counted; tests/integration/ring_retire.cpp runs the same paths everywhere).
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0 external_symbolizer_path=$symbolizer" \
      ctest --preset tsan -j"$JOBS" -LE "consumer|bench|compile_fail|footprint" \
      -E "a second crash in another sink|fork.. at once after start"
    # Left out above: under TSan, the crash drain's recovery from a second SIGSEGV inside the
    # signal handler (siglongjmp out of the nested handler) does not work with TSan's own signal
    # interception; that test runs in the release and ASan builds.
    # Left out here and under ASan below: the test that forks at once after start(), while the
    # parent's new backend thread is still allocating. The sanitizers' allocators (clang 14's TSan,
    # g++ 12's ASan) do not hold their locks across fork(), so a child forked in the middle of
    # another thread's allocation waits forever in its own first one (seen with gdb: a region
    # mutex of SizeClassAllocator64, inherited locked). The release build runs it; qemu-user cannot
    # (the aarch64 test preset in CMakePresets.json says why).
    phase "AddressSanitizer + UBSan build (g++)"
    build asan
    ASAN_OPTIONS="detect_leaks=1 external_symbolizer_path=$symbolizer" UBSAN_OPTIONS="print_stacktrace=1" \
      ctest --preset asan -j"$JOBS" -LE "consumer|bench|compile_fail|footprint" -E "fork.. at once after start"
    phase "libFuzzer (clang, ASan + UBSan): pattern, format and argument decoder, ${GIDLOG_FUZZ_SECONDS:-10} s each"
    tests/fuzz/run_fuzz.sh "${GIDLOG_FUZZ_SECONDS:-10}"
    phase "aarch64 cross build of the whole logger, its tests under qemu"
    tests/arch/run_aarch64.sh
    echo "dev.sh test: all passed in $(( $(date +%s) - start )) s"
    ;;
  test-aarch64)
    install_deps "${TEST_PACKAGES[@]}"
    check_test_tools
    tests/arch/run_aarch64.sh
    ;;
  bench)
    install_deps "${BENCH_PACKAGES[@]}"
    build release
    cd build/release
    for b in bench/bm_*; do [ -x "$b" ] && "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true; done
    [ -x bench/latency ] && bench/latency --records 200000
    [ -x bench/throughput ] && bench/throughput
    [ -x bench/trace_throughput ] && bench/trace_throughput  # gidlog-trace's reading speed
    ;;
  fresh)
    install_deps "${FRESH_PACKAGES[@]}"
    tests/fresh/run_fresh.sh "${@:2}"
    ;;
  *)
    sed -n '2,8p' "$0"
    exit 2
    ;;
esac
