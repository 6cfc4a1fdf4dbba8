#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/<name>.

Each seed is a meaningful input in the target's input format (see the comment at the top of each
fuzz_<target>.cpp and of fuzz_support.h): the default pattern and every pattern flag, format
strings with common specs, escapes and errors, every argument kind. Rerun after changing an input
format; the fuzzers only read this directory (run_fuzz.sh fuzzes a copy).

    tests/fuzz/make_corpus.py
"""
import math
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- argument encoding (fuzz_support.h) --------------------------------------------------------
KINDS = ["bool", "char", "i32", "u32", "i64", "u64", "f32", "f64", "f80", "ptr", "str", "custom"]


def f80(x):
    """x as x87 extended precision: 8 bytes of mantissa (explicit integer bit), 2 of sign+exponent."""
    sign = 0x8000 if math.copysign(1.0, x) < 0 else 0
    if x == 0:
        return struct.pack("<QH", 0, sign)
    if math.isinf(x):
        return struct.pack("<QH", 1 << 63, sign | 0x7FFF)
    if math.isnan(x):
        return struct.pack("<QH", 3 << 62, sign | 0x7FFF)
    m, e = math.frexp(abs(x))  # abs(x) = m * 2**e, 0.5 <= m < 1
    return struct.pack("<QH", int(m * 2**64), sign | (e - 1 + 16383))


def value(kind, v):
    """The bytes of one argument: its kind byte, then its value."""
    k = bytes([KINDS.index(kind)])
    if kind == "bool":
        return k + bytes([1 if v else 0])
    if kind == "char":
        return k + (v.encode() if isinstance(v, str) else bytes([v]))
    if kind in ("i32", "u32", "i64", "u64", "ptr"):
        fmtc = {"i32": "<i", "u32": "<I", "i64": "<q", "u64": "<Q", "ptr": "<Q"}[kind]
        return k + struct.pack(fmtc, v)
    if kind == "f32":
        return k + struct.pack("<f", v)
    if kind == "f64":
        return k + struct.pack("<d", v)
    if kind == "f80":
        return k + f80(v)
    if kind == "str":
        data, length = (v, len(v)) if isinstance(v, bytes) else v  # (bytes that repeat, length)
        return k + struct.pack("<H", length) + data
    if kind == "custom":
        which, payload = v
        if which == "point":
            return k + b"\x00" + struct.pack("<ii", *payload)
        if which == "label":
            text = payload.encode()
            return k + b"\x01" + text.ljust(7, b"\x00")[:7] + bytes([len(text)])
        return k + b"\x02" + bytes([payload])  # thrower: mode
    raise ValueError(kind)


def args(*pairs):
    return b"".join(value(k, v) for k, v in pairs)


# ---- fuzz_pattern: pattern [NUL control wall_ns name] ------------------------------------------
DEFAULT_PATTERN = "[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v"
FEB_24 = 1771950332320123456


def pattern_seeds():
    seeds = {
        "default": DEFAULT_PATTERN.encode(),
        "iso8601": b"%Y-%m-%dT%H:%M:%S.%f%z %l gid-%t %s:%# %v",
        "all_flags": b"%Y %m %d %H %M %S %e %f %F %z %l %L %t %P %n %s %g %# %! %v %%",
        "message_only": b"%v",
        "literal_only": b"no flags at all",
        "empty": b"",
        "percent_escapes": b"100%% %%v %%%v",
        "twice": b"%v|%v %Y%Y",
        "adjacent": b"%H%M%S%e%f%F",
        "bad_flag": b"%Q %v",
        "lone_percent": b"[%l] %v %",
        "only_percent": b"%",
        "utc": DEFAULT_PATTERN.encode() + b"\x00\x01" + struct.pack("<q", FEB_24),
        "escape_newlines": b"%v\x00\x02" + struct.pack("<q", FEB_24),
        "utc_escape_name": b"%n %L %v\x00\x03" + struct.pack("<q", FEB_24) + b"db-writer",
        "epoch": b"%Y%m%d %H%M%S.%F %z\x00\x01" + struct.pack("<q", 0),
        "negative_time": b"%Y-%m-%d %e\x00\x00" + struct.pack("<q", -1),
        "max_time": b"%Y-%m-%d %H:%M:%S.%F\x00\x01" + struct.pack("<q", 2**63 - 1),
        "last_ns_of_second": b"%S.%F\x00\x01" + struct.pack("<q", 1771950332999999999),
    }
    for flag in "YmdHMSefFzlLtPnsg#!v":
        seeds["flag_" + ("hash" if flag == "#" else "bang" if flag == "!" else flag)] = ("<%" + flag + ">").encode()
    return seeds


# ---- fuzz_format: format NUL args --------------------------------------------------------------
def format_seeds():
    s = {}
    def add(name, fmt, *pairs):
        s[name] = fmt.encode() + b"\x00" + args(*pairs)
    add("plain", "{}", ("i32", 42))
    add("right_align", "{:>8}", ("str", b"abc"))
    add("fixed3", "{:.3f}", ("f64", 3.14159))
    add("fixed3_float", "{:.3f}", ("f32", 2.5))
    add("fixed_wide", "{:>12.3f}|{:08.3f}", ("f64", -1.0005), ("f64", 2.0 / 3))
    add("fixed_long_double", "{:.10f}", ("f80", 1.0 / 3))
    add("positional", "{0}", ("i32", 7))
    add("positional_swap", "{1} {0} {1}", ("i32", 1), ("str", b"two"))
    add("escapes", "{{literal}} {} }} {{", ("i32", 9))
    add("dynamic_width", "[{:>{}}]", ("str", b"r"), ("i32", 5))
    add("dynamic_precision", "{:<{}.{}f}|", ("f64", 3.14159), ("i32", 10), ("i32", 2))
    add("specs", "{:>6}|{:<4}|{:#x}|{:08.3f}|{:^7}|{:+d}", ("str", b"ab"), ("i32", 7), ("u32", 255),
        ("f64", 3.14159), ("bool", True), ("i32", 5))
    add("floats", "{} {} {:e} {:g} {:a} {:.0f}", ("f32", 0.1), ("f64", 1e-7), ("f64", 12345.678),
        ("f64", 1e300), ("f64", 0.5), ("f64", 2.5))
    add("nonfinite", "{} {:.3f} {:>8} {:+}", ("f64", float("inf")), ("f64", float("nan")), ("f64", float("-inf")),
        ("f80", float("nan")))
    add("ints", "{} {} {} {} {:c} {:#b} {:o}", ("i32", -2**31), ("u32", 2**32 - 1), ("i64", -2**63),
        ("u64", 2**64 - 1), ("i32", 65), ("u64", 5), ("i64", 8))
    add("misc", "{} {} {} {:p} [{}]", ("bool", False), ("char", "x"), ("ptr", 0x1234), ("ptr", 0), ("str", b""))
    add("string_specs", "[{:^11}] [{:.3}] [{:*<6}]", ("str", b"center"), ("str", b"truncated"), ("str", b"ab"))
    add("bytes", "{}|{:>5}", ("str", b"a\nb\rc\x00\x01\xff"), ("char", 0))
    add("long_string", "<{}>", ("str", (b"0123456789abcdef", 300)))
    add("custom", "{} {} {}", ("custom", ("point", (1, -2))), ("custom", ("label", "EUR")),
        ("custom", ("thrower", 2)))
    add("custom_spec", "{:>14}|{:.3}|{0:<10}", ("custom", ("point", (12345, 0))), ("custom", ("label", "dollars")))
    add("custom_dynamic", "[{:>{}}]", ("custom", ("point", (3, 4))), ("i32", 12))
    add("custom_throws", "a {} b", ("custom", ("thrower", 0)))
    add("custom_throws_int", "a {:>9} b", ("custom", ("thrower", 1)))
    add("custom_unused_thrower", "[{0:>{1}}]", ("str", b"ab"), ("i32", 6), ("custom", ("thrower", 0)))
    add("no_args", "no arguments at all")
    add("empty", "")
    add("empty_field_spec", "{:} {0:}", ("i32", 1))
    # Invalid: each must give the format error note.
    add("bad_open", "abc {", ("i32", 1))
    add("bad_close", "a } b", ("i32", 1))
    add("bad_unterminated", "{:>8", ("i32", 1))
    add("bad_type", "{:d}", ("str", b"text"))
    add("bad_fixed_on_string", "{:.3f}", ("str", b"text"))
    add("bad_spec", "{:q}", ("i32", 1))
    add("bad_mixed_indexing", "{} {0}", ("i32", 1))
    add("bad_mixed_indexing2", "{0} {}", ("i32", 1), ("i32", 2))
    add("bad_leading_zero", "{00}", ("i32", 1))
    add("bad_out_of_range", "{} {}", ("i32", 1))
    add("bad_index", "{5}", ("i32", 1))
    add("bad_named", "{name}", ("i32", 1))
    add("bad_space", "{ }", ("i32", 1))
    add("bad_custom_spec", "{:d}", ("custom", ("point", (1, 2))))
    add("bad_dynamic_type", "{:>{}}", ("str", b"x"), ("str", b"y"))
    return s


# ---- fuzz_decode: control, then per argument: kind, spec index, value ---------------------------
def decode_seeds():
    def arg(kind, spec, v):
        b = value(kind, v)
        return b[:1] + bytes([spec]) + b[1:]
    every_kind = [arg("bool", 0, True), arg("char", 0, "z"), arg("i32", 0, -5), arg("u32", 0, 4000000000),
                  arg("i64", 0, -2**63), arg("u64", 0, 2**64 - 1), arg("f32", 0, 0.1), arg("f64", 0, 2.0 / 3),
                  arg("f80", 0, 1.0 / 3), arg("ptr", 0, 0xDEADBEEF), arg("str", 0, b"hello"),
                  arg("custom", 0, ("point", (1, -2)))]
    s = {
        "every_kind": b"\x00" + b"".join(every_kind),
        "every_kind_numbered": b"\x01" + b"".join(every_kind),
        "every_kind_reversed": b"\x03" + b"".join(every_kind),
        "every_kind_braces": b"\x04" + b"".join(every_kind),
        "no_args": b"\x00",
        "fixed_floats": b"\x00" + arg("f64", 1, 3.14159) + arg("f32", 1, 2.5) + arg("f64", 2, 0.5)
        + arg("f64", 3, 1e-9) + arg("f80", 1, 2.675) + arg("f64", 4, -1234.5678),
        "float_specs": b"\x00" + b"".join(arg("f64", i, 12345.6789) for i in range(22)),
        "nonfinite": b"\x00" + arg("f64", 1, float("nan")) + arg("f64", 8, float("-inf")) + arg("f32", 5, float("inf"))
        + arg("f80", 0, float("-nan")),
        "int_specs": b"\x00" + b"".join(arg("i64", i, -12345) for i in range(14)),
        "uint_specs": b"\x01" + b"".join(arg("u32", i, 0xBEEF) for i in range(14)),
        "bool_char_specs": b"\x00" + b"".join(arg("bool", i, i % 2 == 0) for i in range(6))
        + b"".join(arg("char", i, "q") for i in range(7)),
        "pointers": b"\x00" + b"".join(arg("ptr", i, 0x7FFF12345678) for i in range(5)),
        "strings": b"\x00" + arg("str", 0, b"") + arg("str", 1, b"short") + arg("str", 3, b"centered")
        + arg("str", 4, b"truncate me") + arg("str", 7, b"fill"),
        "string_bytes": b"\x08" + arg("str", 0, b"line1\nline2\r\x00\x01\x7f\xc3\x28\xff"),
        "string_spill": b"\x00" + arg("str", 0, (b"spill to the heap ", 1000)),
        "string_4k": b"\x00" + arg("str", 2, (b"x", 4095)),
        "customs": b"\x00" + arg("custom", 0, ("point", (123, 456))) + arg("custom", 1, ("label", "EUR"))
        + arg("custom", 2, ("label", "abcdefg")) + arg("custom", 3, ("thrower", 2)),
        "custom_throws": b"\x00" + arg("i32", 0, 1) + arg("custom", 0, ("thrower", 0)),
        "custom_throws_int": b"\x01" + arg("custom", 4, ("thrower", 1)),
        "many_ints": b"\x00" + b"".join(arg("i32", 0, i * 1000) for i in range(40)),
        "escape_newlines": b"\x08" + arg("str", 0, b"a\nb") + arg("char", 0, "\n") + arg("char", 0, "\r"),
    }
    return s


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return len(seeds), sum(len(v) for v in seeds.values())


if __name__ == "__main__":
    for target, seeds in (("pattern", pattern_seeds()), ("format", format_seeds()), ("decode", decode_seeds())):
        n, size = write(target, seeds)
        print(f"corpus/{target}: {n} seeds, {size} bytes")
