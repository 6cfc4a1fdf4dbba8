#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build/fuzz and runs each for SECONDS
# (default 20) from a fresh copy of its seed corpus (tests/fuzz/corpus/<target>, never written).
# Prints, per target, the inputs run and the corpus size; exits non-zero when a target fails, with
# its log and the input that failed under build/fuzz/out/<target>/.
#
#   tests/fuzz/run_fuzz.sh [SECONDS]
#
# Environment: GIDLOG_FUZZ_JOBS (build jobs, default 2), CXX (default clang++).
# Reproduce a failure:   build/fuzz/tests/fuzz/fuzz_<target> build/fuzz/out/<target>/crash-...
# Regenerate the seeds:  tests/fuzz/make_corpus.py
set -euo pipefail

secs=${1:-20}
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
cd "$(dirname "$0")/../.."
src=$PWD
build=$src/build/fuzz
targets=(pattern format decode)

# -O1 with line tables only: what libFuzzer's documentation suggests, and a third quicker to build
# than -O2 -g (CI time); crash reports still name file and line.
cmake -S "$src" -B "$build" -DCMAKE_CXX_COMPILER="${CXX:-clang++}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DGIDLOG_BUILD_FUZZ=ON -DGIDLOG_BUILD_TESTS=OFF -DGIDLOG_BUILD_BENCH=OFF -DGIDLOG_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "${GIDLOG_FUZZ_JOBS:-2}" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for t in "${targets[@]}"; do
  out=$build/out/$t
  rm -rf "$out"
  mkdir -p "$out/corpus"
  cp "$src/tests/fuzz/corpus/$t/"* "$out/corpus/"
  seeds=$(find "$out/corpus" -type f | wc -l)
  status=0
  # An input takes milliseconds; -timeout leaves room for a machine busy with builds.
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=60 -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus" >"$out/log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
  files=$(find "$out/corpus" -type f | wc -l)
  bytes=$(find "$out/corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  if [ "$status" -eq 0 ]; then
    printf 'fuzz_%-8s ok      %10s runs in %ss, corpus %d seeds -> %d inputs (%d bytes)\n' \
      "$t" "${runs:-?}" "$secs" "$seeds" "$files" "$bytes"
  else
    printf 'fuzz_%-8s FAILED  (exit %d) after %s runs; log: %s\n' "$t" "$status" "${runs:-?}" "$out/log"
    grep -E -m 12 -A 8 'FUZZ CHECK FAILED|ERROR: (Address|Leak)Sanitizer|runtime error|ERROR: libFuzzer' "$out/log" || tail -n 30 "$out/log"
    ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null || true
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "run_fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
