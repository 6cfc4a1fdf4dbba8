// The backend formatter: message formatting per argument kind, the float fast path, patterns.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include <gidlog/gidlog.h>

#include "backend/formatter.h"

using namespace gidlog::detail;

namespace {

// A deferred_format type whose formatter writes part of its text and then throws (an int when
// `what` is null, else a std::runtime_error).
struct explodes {
  const char* what;
};

}  // namespace

template <>
struct gidlog::deferred_format<explodes> : std::true_type {};

template <>
struct fmt::formatter<explodes> : fmt::formatter<std::string_view> {
  auto format(const explodes& e, format_context& ctx) const -> format_context::iterator {
    fmt::format_to(ctx.out(), "PARTIAL");
    if (e.what == nullptr) throw 42;
    throw std::runtime_error(e.what);
  }
};

namespace {

// Encodes args like the hot path does and formats the message like the backend does.
template <const site_info* Site, class... A>
std::string roundtrip(const A&... args) {
  record r{};
  encode_args<Site>(r, args...);
  std::vector<arg_value> decoded;
  decode_args(*r.meta, r.data(), decoded);
  fmt::memory_buffer out;
  bool ok = format_message(*Site, decoded, out);
  if (r.size > record::inline_capacity) std::free(r.payload.spill);
  std::string s(out.data(), out.size());
  if (!ok) s = "FAILED:" + s;
  return s;
}

#define SITE(name, f) constinit site_info name{gidlog::level::info, 1, "x.cpp", "x.cpp", "fn", nullptr, f}

SITE(s_ints, "{} {} {} {} {} {} {} {}");
SITE(s_floats, "{} {} {:.3f} {:.0f} {:.10f} {:e} {:>8.2f}|");
SITE(s_misc, "{} {} {} [{}] [{}] [{}] {}");
SITE(s_spec, "{:>6}|{:<4}|{:#x}|{:08.3f}|{:^7}|{:+d}");
SITE(s_pos, "{1} {0} {1}");
SITE(s_dyn, "[{:>{}}]");
SITE(s_esc, "{{literal}} {} }} {{");
SITE(s_none, "no arguments at all");
SITE(s_fixed, "{:.3f}");
// Format strings fmt rejects (LOG_* checks them at compile time; these reach format_message only
// through a site made at run time): found by tests/fuzz/fuzz_format.
SITE(s_bad_close, "a } b");
SITE(s_bad_mixed, "{} {0}");
SITE(s_bad_mixed2, "{0} {}");
SITE(s_bad_zero, "{00}");
SITE(s_bad_fill, "{:}>");
SITE(s_fill_brace, "[{:}>8}]");
SITE(s_throws, "a {} b");
SITE(s_throws_spec, "a {:>9} b");
SITE(s_unused_custom, "[{0:>{1}}]");
SITE(s_custom_bad_spec, "{:d}");

}  // namespace

TEST_CASE("integers of every width format like fmt", "[formatter]") {
  signed char sc = -5;
  unsigned char uc = 250;
  short s = -32768;
  unsigned short us = 65535;
  int i = INT32_MIN;
  unsigned u = UINT32_MAX;
  long long ll = INT64_MIN;
  unsigned long long ull = UINT64_MAX;
  CHECK(roundtrip<&s_ints>(sc, uc, s, us, i, u, ll, ull) == fmt::format("{} {} {} {} {} {} {} {}", sc, uc, s, us, i, u, ll, ull));
}

TEST_CASE("floats format like fmt, plain and with specs", "[formatter]") {
  float f = 0.1f;
  double d = 2.0 / 3.0;
  CHECK(roundtrip<&s_floats>(f, d, d, 2.5, 1e-7, 12345.678, -3.14159) ==
        fmt::format("{} {} {:.3f} {:.0f} {:.10f} {:e} {:>8.2f}|", f, d, d, 2.5, 1e-7, 12345.678, -3.14159));
}

TEST_CASE("the fixed-precision fast path writes what fmt writes", "[formatter]") {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> mag(-12, 18);
  std::uniform_int_distribution<int> prec(0, 9);
  int mismatches = 0;
  std::string first;
  for (int k = 0; k < 200000; ++k) {
    double v = std::pow(10.0, mag(rng)) * ((rng() & 1) ? -1 : 1);
    if (k % 97 == 0) v = std::round(v * 1000) / 1000 + 0.0005;  // ties at the rounding digit
    int p = prec(rng);
    fmt::memory_buffer b;
    format_fixed(v, p, b);
    std::string want = fmt::format("{:.{}f}", v, p);
    if (std::string(b.data(), b.size()) != want && mismatches++ == 0) first = want + " vs " + std::string(b.data(), b.size());
  }
  INFO(first);
  CHECK(mismatches == 0);
  for (double v : {0.0, -0.0, 1e300, -1e-300, double(INFINITY), -double(INFINITY), double(NAN), 0.0005, 0.0015, 2.675}) {
    fmt::memory_buffer b;
    format_fixed(v, 3, b);
    CHECK(std::string(b.data(), b.size()) == fmt::format("{:.3f}", v));
  }
  CHECK(roundtrip<&s_fixed>(1.0005) == fmt::format("{:.3f}", 1.0005));
}

TEST_CASE("bool, char, pointers, strings and nulls", "[formatter]") {
  const void* p = reinterpret_cast<const void*>(0x1234);
  std::string str = "std::string";
  std::string_view sv = "view";
  const char* null_str = nullptr;
  CHECK(roundtrip<&s_misc>(true, 'x', p, str, sv, null_str, nullptr) ==
        fmt::format("{} {} {} [{}] [{}] [{}] {}", true, 'x', p, str, sv, "(null)", static_cast<const void*>(nullptr)));
}

TEST_CASE("format specs, positional and dynamic fields, escaped braces", "[formatter]") {
  CHECK(roundtrip<&s_spec>("ab", 7, 255u, 3.14159, true, 5) ==
        fmt::format("{:>6}|{:<4}|{:#x}|{:08.3f}|{:^7}|{:+d}", "ab", 7, 255u, 3.14159, true, 5));
  CHECK(roundtrip<&s_pos>(1, "two") == "two 1 two");
  CHECK(roundtrip<&s_dyn>("r", 5) == "[    r]");
  CHECK(roundtrip<&s_esc>(9) == "{literal} 9 } {");
  CHECK(roundtrip<&s_none>() == "no arguments at all");
}

TEST_CASE("long strings spill to the heap intact", "[formatter]") {
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  static constinit site_info s{gidlog::level::info, 1, "x.cpp", "x.cpp", "fn", nullptr, "<{}>"};
  CHECK(roundtrip<&s>(big) == "<" + big + ">");
}

TEST_CASE("the default pattern lays out the Go service prefix", "[formatter]") {
  gidlog::options opt;
  opt.utc = true;
  line_formatter lf(opt);
  static constinit site_info s{gidlog::level::info, 50, "src/main.cpp", "main.cpp", "main", nullptr, "GameRoom Startup->"};
  record r{};
  encode_args<&s>(r);
  r.gid = 4711;
  // 2026-02-24 16:25:32.320 UTC
  std::int64_t ns = 1771950332LL * 1'000'000'000 + 320'123'456;
  fmt::memory_buffer out;
  auto res = lf.format(r, ns, out);
  std::string line(out.data(), out.size());
  CHECK(line == "[0224/162532.320:INFO:gid-4711:main.cpp:50] GameRoom Startup->\n");
  CHECK(line.substr(res.msg_begin, res.msg_end - res.msg_begin) == "GameRoom Startup->");
  // %C ends the default pattern: nothing without a context_scope (above), its pairs with one.
  CHECK(opt.pattern.ends_with("%v%C"));
  gidlog::context_scope scope{{"req", "r-42"}, {"user_id", 7}};
  record rc{};
  encode_args<&s>(rc);
  rc.gid = 4711;
  rc.context = gidlog::detail::tl_context;
  out.clear();
  lf.format(rc, ns, out);
  CHECK(std::string(out.data(), out.size()) ==
        "[0224/162532.320:INFO:gid-4711:main.cpp:50] GameRoom Startup-> req=r-42 user_id=7\n");
}

TEST_CASE("pattern flags: ISO 8601, micro and nanoseconds, names, function, path", "[formatter]") {
  gidlog::options opt;
  opt.utc = true;
  opt.name = "svc";
  opt.pattern = "%Y-%m-%dT%H:%M:%S.%f%z %F %L %l %n %g:%# %! %% %v";
  line_formatter lf(opt);
  static constinit site_info s{gidlog::level::warn, 7, "a/b/c.cpp", "c.cpp", "handler", nullptr, "m{}"};
  record r{};
  encode_args<&s>(r, 1);
  std::int64_t ns = 1771950332LL * 1'000'000'000 + 320'123'456;
  fmt::memory_buffer out;
  lf.format(r, ns, out);
  CHECK(std::string(out.data(), out.size()) ==
        "2026-02-24T16:25:32.320123+0000 320123456 W WARN svc a/b/c.cpp:7 handler % m1\n");
  static constinit site_info named{gidlog::level::warn, 7, "c.cpp", "c.cpp", "handler", "other", "m"};
  record r2{};
  encode_args<&named>(r2);
  out.clear();
  lf.format(r2, ns, out);
  CHECK(std::string(out.data(), out.size()).find(" WARN other ") != std::string::npos);  // the site's logger name
}

TEST_CASE("an unknown pattern flag is rejected naming the field", "[formatter]") {
  gidlog::options opt;
  opt.pattern = "%Q %v";
  CHECK_THROWS_WITH(line_formatter(opt), Catch::Contains("gidlog::options::pattern") && Catch::Contains("%Q"));
}

TEST_CASE("escape_newlines keeps one record on one line without losing bytes", "[formatter]") {
  gidlog::options opt;
  opt.pattern = "%v";
  opt.escape_newlines = true;
  line_formatter lf(opt);
  static constinit site_info s{gidlog::level::info, 1, "x", "x", "f", nullptr, "{}"};
  record r{};
  encode_args<&s>(r, std::string_view("a\nb\rc\x01\xff"));
  fmt::memory_buffer out;
  lf.format(r, 0, out);
  CHECK(std::string(out.data(), out.size()) == "a\\nb\\rc\x01\xff\n");
}

TEST_CASE("a format string fmt rejects gives the format error note, not a message", "[formatter]") {
  auto is_error_note = [](const std::string& got, std::string_view format) {
    return got.rfind("FAILED:[gidlog: format error: ", 0) == 0 && got.find(format) != std::string::npos;
  };
  // Each was formatted by the fast path as if valid before (a lone '}' as a literal, "{00}" as
  // "{0}", "{} {0}" as two fields, "{:}" followed by an alignment as a field and text).
  CHECK(is_error_note(roundtrip<&s_bad_close>(1), "format \"a } b\""));
  CHECK_THAT(roundtrip<&s_bad_close>(1), Catch::Contains("unmatched '}'"));
  CHECK(is_error_note(roundtrip<&s_bad_mixed>(1), "format \"{} {0}\""));
  CHECK(is_error_note(roundtrip<&s_bad_mixed2>(1, 2), "format \"{0} {}\""));
  CHECK(is_error_note(roundtrip<&s_bad_zero>(1), "format \"{00}\""));
  CHECK(is_error_note(roundtrip<&s_bad_fill>(1), "format \"{:}>\""));
  // ... and fmt's reading of a '}' fill is kept: "{:}>8}" pads with '}'.
  CHECK(roundtrip<&s_fill_brace>(std::string_view("x")) == fmt::format("[{:}>8}]", "x"));
}

TEST_CASE("a deferred formatter that throws gives a note and nothing partial", "[formatter]") {
  CHECK(roundtrip<&s_throws>(explodes{"boom"}) == "FAILED:[gidlog: formatting threw: boom; format \"a {} b\"]");
  CHECK(roundtrip<&s_throws_spec>(explodes{nullptr}) ==
        "FAILED:[gidlog: formatting threw: unknown exception; format \"a {:>9} b\"]");
  // A spec the type's formatter rejects is a format error, as for a built-in type.
  CHECK_THAT(roundtrip<&s_custom_bad_spec>(explodes{"boom"}), Catch::StartsWith("FAILED:[gidlog: format error: "));
  // On the generic path (dynamic width) a deferred argument no field names is not formatted.
  CHECK(roundtrip<&s_unused_custom>(std::string_view("ab"), 6, explodes{"boom"}) == "[    ab]");
}
