#!/usr/bin/env python3
"""What a LOG_* statement costs to build: compile time and .text bytes per statement, and the
time of the header alone, for gidlog.

It writes two translation units, one including the header with no statement and one with N
LOG_INFO statements of 1 to 6 arguments (int, unsigned, long, double, float, bool, C string,
std::string, std::string_view, char: the mix of Quill's compile-time benchmark, the same as
../shared/peers/compile/gen.py writes for the side-by-side table), compiles both to objects at
-O2 and reports the differences over N. Compile times are wall-clock seconds of the compiler
process (and its user CPU time): run it on a quiet machine and compare runs side by side.

  python3 bench/compile_cost.py [--statements 1000] [--reps 3] [--header gidlog/log.h]
      [--cxx g++] [--include DIR ...]

Without --include it compiles against this source tree (include/ and the x86_64 arch headers).
"""
import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

TYPES = [("int", "i"), ("unsigned", "u"), ("long", "l"), ("double", "d"), ("float", "f"),
         ("bool", "b"), ("const char*", "cs"), ("std::string", "s"), ("std::string_view", "sv"),
         ("char", "c")]
WORDS = "request user session cache shard replica token queue worker timeout retry bytes".split()


def write_unit(path, header, n):
    rng = random.Random(7)
    with open(path, "w") as f:
        f.write(f"#include <string>\n#include <string_view>\n#include <{header}>\n")
        f.write("void log_all(int i, unsigned u, long l, double d, float f, bool b, const char* cs,\n"
                "             const std::string& s, std::string_view sv, char c) {\n")
        for k in range(n):
            args = [rng.choice(TYPES)[1] for _ in range(rng.randint(1, 6))]
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 4)))
            fmt = words + " " + " ".join("{}" for _ in args) + f" #{k}"
            f.write(f'  LOG_INFO("{fmt}", {", ".join(args)});\n')
        f.write("}\n")


def text_bytes(obj):
    out = subprocess.run(["size", "-A", obj], check=True, capture_output=True, text=True).stdout
    return sum(int(line.split()[1]) for line in out.splitlines() if line.startswith(".text"))


def compile_once(cxx, flags, src, obj):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    start = time.monotonic()
    r = subprocess.run([cxx, *flags, "-c", src, "-o", obj], capture_output=True, text=True)
    wall = time.monotonic() - start
    user = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    if r.returncode != 0:
        sys.exit(f"compile_cost: {cxx} failed on {src}:\n{r.stderr[:2000]}")
    return wall, user


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--statements", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--header", default="gidlog/log.h")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    ap.add_argument("--include", action="append",
                    default=None, help="include directory (repeatable); default: this source tree")
    ap.add_argument("--flag", action="append", default=[], help="extra compiler flag (repeatable)")
    a = ap.parse_args()
    if a.statements < 1 or a.reps < 1:
        sys.exit("compile_cost: --statements and --reps must be at least 1")
    includes = a.include or [os.path.join(root, "include"), os.path.join(root, "arch", "x86_64")]
    flags = ["-std=c++20", "-O2", "-DNDEBUG", *[f"-I{d}" for d in includes], *a.flag]
    work = tempfile.mkdtemp(prefix="gidlog-compile-cost-")
    src0, srcn = os.path.join(work, "none.cpp"), os.path.join(work, "stmts.cpp")
    write_unit(src0, a.header, 0)
    write_unit(srcn, a.header, a.statements)
    print(f"# {a.cxx} -O2, {a.statements} statements, header <{a.header}>, load {os.getloadavg()[0]:.2f}")
    print(f"{'rep':>3} {'header_s':>9} {'stmts_s':>9} {'ms/stmt':>8} {'user_ms/stmt':>12} {'text_B/stmt':>11}")
    rows = []
    for rep in range(1, a.reps + 1):
        w0, u0 = compile_once(a.cxx, flags, src0, src0 + ".o")
        wn, un = compile_once(a.cxx, flags, srcn, srcn + ".o")
        per = (wn - w0) * 1000 / a.statements
        per_user = (un - u0) * 1000 / a.statements
        size = (text_bytes(srcn + ".o") - text_bytes(src0 + ".o")) / a.statements
        rows.append((w0, wn, per, per_user, size))
        print(f"{rep:>3} {w0:>9.2f} {wn:>9.2f} {per:>8.2f} {per_user:>12.2f} {size:>11.1f}")
    med = [statistics.median(c) for c in zip(*rows)]
    lo = [min(c) for c in zip(*rows)]
    hi = [max(c) for c in zip(*rows)]
    print(f"median: header {med[0]:.2f} s ({lo[0]:.2f}-{hi[0]:.2f}), {med[2]:.2f} ms/statement "
          f"({lo[2]:.2f}-{hi[2]:.2f}), user {med[3]:.2f} ms/statement, {med[4]:.1f} bytes of .text per statement")
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.rmdir(work)


main()
