// The JSON lines sink, fed hand-built log_lines (no backend): keys, their order and types, the
// time stamp, numbers, escaping of control characters, quotes and invalid UTF-8, 1 MiB values,
// and key clashes. Every line is parsed back with nlohmann/json.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <random>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gidlog/gidlog.h>

#include "log_capture.h"

namespace {

using json = nlohmann::ordered_json;

// 2026-11-30T09:15:02.117503211Z
constexpr std::int64_t design_ts = 1796030102LL * 1'000'000'000 + 117503211;

gidlog::log_line make_line(std::string_view msg = "hello", std::span<const gidlog::field> fields = {},
                           std::span<const gidlog::field> context = {}) {
  gidlog::log_line l{};
  l.level = gidlog::level::info;
  l.gid = 4711;
  l.time_ns = design_ts;
  l.text = msg;  // a sink that does not want text gets the message here
  l.message = msg;
  l.file = "auth.cpp";
  l.line = 12;
  l.function = "login";
  l.logger = "main";
  l.format = "tmpl of {}";
  l.fields = fields;
  l.context = context;
  return l;
}

gidlog::field_value str(std::string_view s) {
  gidlog::field_value v;
  v.type = gidlog::field_value::kind::string;
  v.s = s;
  return v;
}
gidlog::field_value i64(std::int64_t i) {
  gidlog::field_value v;
  v.type = gidlog::field_value::kind::signed_integer;
  v.i = i;
  return v;
}
gidlog::field_value u64(std::uint64_t u) {
  gidlog::field_value v;
  v.type = gidlog::field_value::kind::unsigned_integer;
  v.u = u;
  return v;
}
gidlog::field_value dbl(double d) {
  gidlog::field_value v;
  v.type = gidlog::field_value::kind::floating;
  v.d = d;
  return v;
}
gidlog::field_value boolean(bool b) {
  gidlog::field_value v;
  v.type = gidlog::field_value::kind::boolean;
  v.b = b;
  return v;
}

// A json_sink on a fresh file; lines() writes what it was given and reads the file back.
struct json_file {
  std::string path;
  gidlog::sink_ptr sink;
  explicit json_file(const std::string& name, gidlog::json_sink_options opts = {})
      : path(gidlog_test::temp_path(name)) {
    std::filesystem::remove(path);
    sink = gidlog::json_sink(path, opts);
    sink->open();
  }
  ~json_file() {
    sink.reset();
    std::filesystem::remove(path);
  }
  std::vector<std::string> lines() {
    sink->flush();
    return gidlog_test::read_lines(path);
  }
  // Writes one line and parses it back (the file holds only that one).
  json one(const gidlog::log_line& l) {
    sink->write(l);
    auto ls = lines();
    REQUIRE(ls.size() == 1);
    return json::parse(ls[0]);
  }
};

std::vector<std::string> keys_of(const json& j) {
  std::vector<std::string> k;
  for (auto it = j.begin(); it != j.end(); ++it) k.push_back(it.key());
  return k;
}

}  // namespace

TEST_CASE("json_sink: the design's example line, keys in order with their types", "[json]") {
  json_file f("json_example");
  const gidlog::field fields[] = {{"user", str("alice")}, {"ip", str("10.0.0.1")}, {"ms", dbl(3.2)}};
  const gidlog::field ctx[] = {{"req", str("r-42")}, {"user_id", i64(7)}};
  auto l = make_line("login alice from 10.0.0.1 took 3.2 ms", fields, ctx);
  l.format = "login {user} from {ip} took {ms:.1f} ms";
  const std::string expected =
      R"({"ts":"2026-11-30T09:15:02.117503211Z","level":"INFO","gid":4711,"file":"auth.cpp","line":12,)"
      R"("func":"login","logger":"main","msg":"login alice from 10.0.0.1 took 3.2 ms",)"
      R"("tmpl":"login {user} from {ip} took {ms:.1f} ms","user":"alice","ip":"10.0.0.1","ms":3.2,)"
      R"("ctx":{"req":"r-42","user_id":7}})";
  f.sink->write(l);
  auto ls = f.lines();
  REQUIRE(ls.size() == 1);
  CHECK(ls[0] == expected);
  const json j = json::parse(ls[0]);
  CHECK(keys_of(j) == std::vector<std::string>{"ts", "level", "gid", "file", "line", "func", "logger", "msg", "tmpl",
                                               "user", "ip", "ms", "ctx"});
  CHECK(j["gid"].is_number_unsigned());
  CHECK(j["line"].is_number_unsigned());
  CHECK(j["ms"].is_number_float());
  CHECK(j["ms"].get<double>() == 3.2);
  CHECK(j["ctx"]["user_id"].is_number_integer());
  CHECK_FALSE(f.sink->wants_text());
}

TEST_CASE("json_sink: no ctx key without context, no argument keys without fields", "[json]") {
  json_file f("json_bare");
  const json j = f.one(make_line("plain"));
  CHECK(keys_of(j) == std::vector<std::string>{"ts", "level", "gid", "file", "line", "func", "logger", "msg", "tmpl"});
  CHECK(j["msg"] == "plain");
}

TEST_CASE("json_sink: ts is RFC 3339 UTC with nanoseconds, right across seconds and before 1970", "[json]") {
  json_file f("json_ts");
  auto l = make_line();
  const std::int64_t times[] = {design_ts, design_ts + 1, design_ts + 882'496'788,  // same second
                                design_ts + 882'496'789,                            // next second
                                0, 999'999'999, -1, 951'782'400LL * 1'000'000'000};  // 2000-02-29
  for (std::int64_t t : times) {
    l.time_ns = t;
    f.sink->write(l);
  }
  auto ls = f.lines();
  REQUIRE(ls.size() == std::size(times));
  const char* expected[] = {"2026-11-30T09:15:02.117503211Z", "2026-11-30T09:15:02.117503212Z",
                            "2026-11-30T09:15:02.999999999Z", "2026-11-30T09:15:03.000000000Z",
                            "1970-01-01T00:00:00.000000000Z", "1970-01-01T00:00:00.999999999Z",
                            "1969-12-31T23:59:59.999999999Z", "2000-02-29T00:00:00.000000000Z"};
  for (std::size_t i = 0; i < ls.size(); ++i) CHECK(json::parse(ls[i])["ts"] == expected[i]);
}

TEST_CASE("json_sink: every level's name", "[json]") {
  json_file f("json_levels");
  auto l = make_line();
  for (int i = 0; i <= 5; ++i) {
    l.level = static_cast<gidlog::level>(i);
    f.sink->write(l);
  }
  auto ls = f.lines();
  REQUIRE(ls.size() == 6);
  const char* names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
  for (std::size_t i = 0; i < 6; ++i) CHECK(json::parse(ls[i])["level"] == names[i]);
}

TEST_CASE("json_sink: field types: integers at their limits, floats round trip, NaN and infinities as strings",
          "[json]") {
  json_file f("json_types");
  const double tiny = std::numeric_limits<double>::denorm_min(), huge = std::numeric_limits<double>::max();
  const gidlog::field fields[] = {
      {"imin", i64(std::numeric_limits<std::int64_t>::min())},
      {"imax", i64(std::numeric_limits<std::int64_t>::max())},
      {"umax", u64(std::numeric_limits<std::uint64_t>::max())},
      {"neg", i64(-5)},
      {"t", boolean(true)},
      {"f", boolean(false)},
      {"pi", dbl(3.141592653589793)},
      {"third", dbl(1.0 / 3)},
      {"tiny", dbl(tiny)},
      {"huge", dbl(huge)},
      {"negzero", dbl(-0.0)},
      {"whole", dbl(1e21)},
      {"three", dbl(3.0)},
      {"nan", dbl(std::nan(""))},
      {"inf", dbl(std::numeric_limits<double>::infinity())},
      {"ninf", dbl(-std::numeric_limits<double>::infinity())},
      {"s", str("text")},
      {"empty", str("")},
  };
  const json j = f.one(make_line("m", fields));
  CHECK(j["imin"].get<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
  CHECK(j["imax"].get<std::int64_t>() == std::numeric_limits<std::int64_t>::max());
  CHECK(j["umax"].is_number_unsigned());
  CHECK(j["umax"].get<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
  CHECK(j["neg"].get<std::int64_t>() == -5);
  CHECK(j["t"].is_boolean());
  CHECK(j["t"].get<bool>());
  CHECK_FALSE(j["f"].get<bool>());
  for (const char* k : {"pi", "third", "tiny", "huge", "negzero", "whole", "three"}) {
    INFO(k);
    CHECK(j[k].is_number_float());  // a double never reads back as an integer
  }
  CHECK(j["three"].get<double>() == 3.0);
  CHECK(j["pi"].get<double>() == 3.141592653589793);
  CHECK(j["third"].get<double>() == 1.0 / 3);
  CHECK(j["tiny"].get<double>() == tiny);
  CHECK(j["huge"].get<double>() == huge);
  CHECK(std::signbit(j["negzero"].get<double>()));
  CHECK(j["whole"].get<double>() == 1e21);
  CHECK(j["nan"] == "NaN");
  CHECK(j["inf"] == "Infinity");
  CHECK(j["ninf"] == "-Infinity");
  CHECK(j["s"] == "text");
  CHECK(j["empty"] == "");
}

// Catches: a digit placed wrong by the float writer (a value that reads back different), a
// double written without '.' or exponent (read back as an integer), the fixed/exponent switch.
TEST_CASE("json_sink: 100 000 doubles from random bits and the edge values read back bit for bit", "[json]") {
  json_file f("json_doubles");
  std::vector<double> values = {0.1,     0.5,    1.0,     10.0,     1e15,    1e16,      1e17,   123456789012345678.0,
                                1e20,    1e21,   1.5e21,  1e22,     1e-5,    1e-6,      9.99e-7, 1e-7,
                                2.5e-8,  1e-300, 5e-324,  2.2250738585072014e-308,    1.7976931348623157e308,
                                -1e-6,   -1e21,  0.3,     2.0 / 3,  1234.5,  99999999999999999999.0};
  std::mt19937_64 rng(42);
  while (values.size() < 100'000) {
    std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) values.push_back(d);
  }
  std::vector<gidlog::field> fields;
  for (double v : values) fields.push_back({"v", dbl(v)});
  constexpr std::size_t per_line = 1000;  // keys v0 ... v999 on each line
  std::vector<std::string> names(per_line);
  for (std::size_t i = 0; i < per_line; ++i) names[i] = "v" + std::to_string(i);
  for (std::size_t i = 0; i < fields.size(); ++i) fields[i].name = names[i % per_line];
  for (std::size_t at = 0; at < fields.size(); at += per_line)
    f.sink->write(make_line("m", std::span<const gidlog::field>(fields).subspan(at, per_line)));
  const auto ls = f.lines();
  REQUIRE(ls.size() == fields.size() / per_line);
  std::size_t wrong = 0, not_float = 0;
  std::string first_wrong;
  for (std::size_t li = 0; li < ls.size(); ++li) {
    const auto j = nlohmann::json::parse(ls[li]);
    for (std::size_t i = 0; i < per_line; ++i) {
      const auto& v = j[names[i]];
      const double want = values[li * per_line + i];
      not_float += !v.is_number_float();
      const double got = v.get<double>();
      if (std::memcmp(&got, &want, sizeof got) != 0 && wrong++ == 0)
        first_wrong = fmt::format("{} read back as {} ({})", want, got, v.dump());
    }
  }
  INFO(first_wrong);
  CHECK(wrong == 0);
  CHECK(not_float == 0);
  // The text itself for a few: fixed notation from 1e-6 to below 1e21, the exponent outside.
  const gidlog::field few[] = {{"a", dbl(1e20)},  {"b", dbl(1e21)},    {"c", dbl(1e-6)},
                               {"d", dbl(1e-7)},  {"e", dbl(-0.0)},    {"g", dbl(1.5)},
                               {"h", dbl(5e-324)}, {"i", dbl(0.000123)}};
  f.sink->write(make_line("m", few));
  const auto last = f.lines().back();
  CHECK(last.find(R"("a":100000000000000000000.0,"b":1e+21,"c":0.000001,"d":1e-7,"e":-0.0,"g":1.5,"h":5e-324,)"
                  R"("i":0.000123})") != std::string::npos);
}

TEST_CASE("json_sink: quotes, backslashes and every control character are escaped and read back", "[json]") {
  json_file f("json_control");
  std::string all;
  for (int c = 0; c < 0x20; ++c) all += static_cast<char>(c);
  all += "\"\\/\x7f end";
  const gidlog::field fields[] = {{"v", str(all)}};
  auto l = make_line(all, fields);
  l.file = "a\"b.cpp";
  l.function = "f\\n";
  l.logger = "tab\tlogger";
  l.format = "{\"x\"}\n";
  f.sink->write(l);
  auto ls = f.lines();
  REQUIRE(ls.size() == 1);  // no raw newline broke the line
  for (char c : ls[0]) CHECK(static_cast<unsigned char>(c) >= 0x20);
  CHECK(ls[0].find(R"(\u0000\u0001)") != std::string::npos);
  CHECK(ls[0].find(R"(\b\t\n\u000b\f\r)") != std::string::npos);
  const json j = json::parse(ls[0]);
  CHECK(j["msg"] == all);
  CHECK(j["v"] == all);
  CHECK(j["file"] == "a\"b.cpp");
  CHECK(j["func"] == "f\\n");
  CHECK(j["logger"] == "tab\tlogger");
  CHECK(j["tmpl"] == "{\"x\"}\n");
}

// The escaper copies plain text 8 bytes at a time and ends a run with an overlapping 8-byte copy.
// Catches: a byte to escape inside a chunk or the overlapped tail copied raw, a byte skipped or
// written twice at a chunk boundary.
TEST_CASE("json_sink: one byte to escape at every position of strings of 0 to 40 bytes", "[json]") {
  json_file f("json_positions");
  struct special {
    std::string in, out;
  };
  const special specials[] = {{"\"", "\""}, {"\\", "\\"}, {"\n", "\n"}, {std::string(1, '\0'), std::string(1, '\0')},
                              {"\x1f", "\x1f"}, {"\x80", "\xEF\xBF\xBD"}, {"\xC3\xA9", "\xC3\xA9"}};
  std::vector<std::string> in, out;
  for (std::size_t len = 0; len <= 40; ++len)
    for (std::size_t pos = 0; pos <= len; ++pos)
      for (const auto& sp : specials) {
        const std::string head(pos, 'a'), tail(len - pos, 'z');
        in.push_back(head + (pos < len ? sp.in : "") + tail);
        out.push_back(head + (pos < len ? sp.out : "") + tail);
      }
  for (const auto& s : in) f.sink->write(make_line(s));
  const auto ls = f.lines();
  REQUIRE(ls.size() == in.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < ls.size(); ++i) {
    const auto j = nlohmann::json::parse(ls[i], nullptr, false);
    if (j.is_discarded() || j["msg"] != out[i]) {
      if (wrong++ == 0) FAIL_CHECK("line " << i << ": " << ls[i]);
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("json_sink: valid UTF-8 passes through byte for byte", "[json]") {
  json_file f("json_utf8");
  // U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF, and text in three scripts.
  const std::string valid = "\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xEF\xBF\xBF \xF0\x90\x80\x80 \xF4\x8F\xBF\xBF "
                            "gr\xC3\xBC\xC3\x9F \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80";
  const gidlog::field fields[] = {{"n\xC3\xA4me", str(valid)}};
  f.sink->write(make_line(valid, fields));
  auto ls = f.lines();
  REQUIRE(ls.size() == 1);
  CHECK(ls[0].find("\"msg\":\"" + valid + "\"") != std::string::npos);
  const json j = json::parse(ls[0]);
  CHECK(j["msg"] == valid);
  CHECK(j["n\xC3\xA4me"] == valid);
}

TEST_CASE("json_sink: each byte of invalid UTF-8 becomes U+FFFD, the valid text around it stays", "[json]") {
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD as UTF-8, what the parser returns for \ufffd
  struct example {
    std::string in, out;
  };
  const example cases[] = {
      {"a\x80" "b", "a" + r + "b"},                           // stray continuation byte
      {"\xC0\x80", r + r},                                    // overlong NUL
      {"\xC1\xBF", r + r},                                    // overlong
      {"\xE0\x80\xAF", r + r + r},                            // overlong 3-byte
      {"\xED\xA0\x80", r + r + r},                            // surrogate U+D800
      {"\xF4\x90\x80\x80", r + r + r + r},                    // above U+10FFFF
      {"\xF5\x80", r + r},                                    // no such lead byte
      {"\xFF\xFE", r + r},                                    // not UTF-8 at all
      {"x\xE2\x82", "x" + r + r},                             // truncated at the end
      {"\xE2\x82" "A\xE2\x82\xAC", r + r + "A\xE2\x82\xAC"},  // truncated, then a valid euro sign
      {"\xF0\x9F\x98", r + r + r},                            // truncated 4-byte
      {"ok \xC3\xA4 \xC3", "ok \xC3\xA4 " + r},
  };
  json_file f("json_bad_utf8");
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    const gidlog::field one[] = {{cases[i].in, str(cases[i].in)}};  // in the key too
    auto l = make_line(cases[i].in, one);
    l.format = cases[i].in;
    l.file = cases[i].in;
    f.sink->write(l);
  }
  auto ls = f.lines();
  REQUIRE(ls.size() == std::size(cases));
  for (std::size_t i = 0; i < ls.size(); ++i) {
    INFO("case " << i << ": " << ls[i]);
    json j;
    REQUIRE_NOTHROW(j = json::parse(ls[i]));
    CHECK(j["msg"] == cases[i].out);
    CHECK(j["tmpl"] == cases[i].out);
    CHECK(j["file"] == cases[i].out);
    CHECK(j.contains(cases[i].out));
    if (j.contains(cases[i].out)) CHECK(j[cases[i].out] == cases[i].out);
  }
}

TEST_CASE("json_sink: 1 MiB string values with quotes and newlines, then small lines again", "[json]") {
  json_file f("json_big", {.file = {.buffer_bytes = 4096}});
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 997) big[i] = i % 2 ? '"' : '\n';
  big[12345] = '\x01';
  const gidlog::field fields[] = {{"big", str(big)}, {"after", i64(1)}};
  const gidlog::field ctx[] = {{"bigctx", str(big)}};
  f.sink->write(make_line(big, fields, ctx));
  f.sink->write(make_line("small"));
  auto ls = f.lines();
  REQUIRE(ls.size() == 2);
  const json j = json::parse(ls[0]);
  CHECK(j["msg"] == big);
  CHECK(j["big"] == big);
  CHECK(j["after"] == 1);
  CHECK(j["ctx"]["bigctx"] == big);
  CHECK(json::parse(ls[1])["msg"] == "small");
}

TEST_CASE("json_sink: an argument named like a fixed key or an earlier argument gets f_ in front", "[json]") {
  json_file f("json_clash");
  const gidlog::field fields[] = {{"msg", i64(1)}, {"f_msg", i64(2)}, {"ts", i64(3)},  {"x", i64(4)},
                                  {"x", i64(5)},   {"f_x", i64(6)},   {"ctx", i64(7)}, {"level", i64(8)},
                                  {"gid", i64(9)}, {"tmpl", i64(10)}, {"", i64(11)}};
  const gidlog::field ctx[] = {{"msg", i64(20)}, {"req", i64(21)}, {"req", i64(22)}};
  const auto l = make_line("the message", fields, ctx);
  f.sink->write(l);
  auto ls = f.lines();
  REQUIRE(ls.size() == 1);
  const json j = json::parse(ls[0]);
  // Counting keys catches a duplicate: the parser would keep only one of two equal keys.
  CHECK(keys_of(j) == std::vector<std::string>{"ts", "level", "gid", "file", "line", "func", "logger", "msg", "tmpl",
                                               "f_msg", "f_f_msg", "f_ts", "x", "f_x", "f_f_x", "f_ctx", "f_level",
                                               "f_gid", "f_tmpl", "", "ctx"});
  CHECK(j["msg"] == "the message");
  CHECK(j["f_msg"] == 1);
  CHECK(j["f_f_msg"] == 2);
  CHECK(j["f_ts"] == 3);
  CHECK(j["x"] == 4);
  CHECK(j["f_x"] == 5);
  CHECK(j["f_f_x"] == 6);
  CHECK(j["f_ctx"] == 7);
  CHECK(j[""] == 11);
  CHECK(keys_of(j["ctx"]) == std::vector<std::string>{"msg", "req", "f_req"});  // fixed keys are top-level only
  CHECK(j["ctx"]["f_req"] == 22);
}

// The sink keeps what a call site repeats, escaped once. Catches: a cache keyed by the strings'
// addresses, which serves stale text when a caller reuses its memory for other text (log_line's
// views are valid only during the call), or two sites that share a slot mixed up.
TEST_CASE("json_sink: a site's kept parts follow the text, not its address", "[json]") {
  json_file f("json_site_parts");
  std::string format = "first {a}", file = "one.cpp", name = "a", func = "f1";
  gidlog::field fields[] = {{name, i64(1)}};
  auto l = make_line("m", fields);
  auto refresh = [&] {
    l.format = format;
    l.file = file;
    l.function = func;
    fields[0].name = name;
  };
  refresh();
  f.sink->write(l);
  format = "other {b}";  // same size, same address
  file = "two.cpp";
  name = "b";
  func = "f2";
  refresh();
  f.sink->write(l);
  for (std::uint32_t line = 1; line <= 600; ++line) {  // more sites than slots: slots are shared
    l.line = line;
    f.sink->write(l);
  }
  const auto ls = f.lines();
  REQUIRE(ls.size() == 602);
  const auto first = json::parse(ls[0]), second = json::parse(ls[1]);
  CHECK(first["tmpl"] == "first {a}");
  CHECK(first["file"] == "one.cpp");
  CHECK(first["func"] == "f1");
  CHECK(first["a"] == 1);
  CHECK(second["tmpl"] == "other {b}");
  CHECK(second["file"] == "two.cpp");
  CHECK(second["func"] == "f2");
  CHECK(second["b"] == 1);
  CHECK_FALSE(second.contains("a"));
  std::size_t wrong = 0;
  for (std::size_t i = 2; i < ls.size(); ++i) wrong += json::parse(ls[i])["line"] != i - 1;
  CHECK(wrong == 0);
}

TEST_CASE("json_sink: a write error is thrown, and the line is not taken", "[json]") {
  // /dev/full takes open() and fails every write(2) with ENOSPC.
  auto sink = gidlog::json_sink("/dev/full", {.file = {.buffer_bytes = 1}});
  sink->open();
  sink->write(make_line("first"));                             // buffered: nothing written yet
  CHECK_THROWS_AS(sink->write(make_line("second")), std::system_error);  // needs room: fails
  CHECK_THROWS_AS(sink->flush(), std::system_error);
}

// A W3C trace context's fields go to the top level, after gid, as OpenTelemetry's log data model
// names them (trace_id, span_id, trace_flags); parent_span_id and the other fields stay in ctx.
TEST_CASE("json_sink: trace_id, span_id and trace_flags at the top level, out of ctx", "[json][trace_context]") {
  json_file f("json_trace");
  const gidlog::field fields[] = {{"n", i64(1)}};
  const gidlog::field ctx[] = {{"req", str("r-42")},
                               {"trace_id", str("4bf92f3577b34da6a3ce929d0e0e4736")},
                               {"span_id", str("00f067aa0ba902b7")},
                               {"trace_flags", str("01")},
                               {"parent_span_id", str("b7ad6b7169203331")}};
  auto l = make_line("hop 1", fields, ctx);
  l.format = "hop {n}";
  const std::string expected =
      R"({"ts":"2026-11-30T09:15:02.117503211Z","level":"INFO","gid":4711,)"
      R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01",)"
      R"("file":"auth.cpp","line":12,"func":"login","logger":"main","msg":"hop 1","tmpl":"hop {n}","n":1,)"
      R"("ctx":{"req":"r-42","parent_span_id":"b7ad6b7169203331"}})";
  f.sink->write(l);
  // The same site with only the trace fields in its context: no "ctx" at all; then none at all.
  const gidlog::field only_trace[] = {{"span_id", str("00f067aa0ba902b7")}, {"trace_id", str("4bf92f3577b34da6a3ce929d0e0e4736")}};
  l.context = only_trace;
  f.sink->write(l);
  l.context = {};
  f.sink->write(l);
  auto ls = f.lines();
  REQUIRE(ls.size() == 3);
  CHECK(ls[0] == expected);
  CHECK(ls[1] ==
        R"({"ts":"2026-11-30T09:15:02.117503211Z","level":"INFO","gid":4711,)"
        R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",)"
        R"("file":"auth.cpp","line":12,"func":"login","logger":"main","msg":"hop 1","tmpl":"hop {n}","n":1})");
  CHECK(ls[2] ==
        R"({"ts":"2026-11-30T09:15:02.117503211Z","level":"INFO","gid":4711,)"
        R"("file":"auth.cpp","line":12,"func":"login","logger":"main","msg":"hop 1","tmpl":"hop {n}","n":1})");
  for (const std::string& s : ls) CHECK_NOTHROW(json::parse(s));
}

TEST_CASE("json_sink: an argument named trace_id, span_id or trace_flags gets f_ in front", "[json][trace_context]") {
  json_file f("json_trace_clash");
  const gidlog::field fields[] = {{"trace_id", str("mine")}, {"span_id", i64(2)}, {"trace_flags", i64(3)}};
  const gidlog::field ctx[] = {{"trace_id", str("4bf92f3577b34da6a3ce929d0e0e4736")}, {"span_id", str("00f067aa0ba902b7")}};
  const json with = f.one(make_line("m", fields, ctx));
  CHECK(keys_of(with) == std::vector<std::string>{"ts", "level", "gid", "trace_id", "span_id", "file", "line", "func", "logger",
                                                  "msg", "tmpl", "f_trace_id", "f_span_id", "f_trace_flags"});
  CHECK(with["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(with["f_trace_id"] == "mine");
  json_file g("json_trace_clash_nocontext");
  const json without = g.one(make_line("m", fields));
  CHECK(without["f_trace_id"] == "mine");
  CHECK(!without.contains("trace_id"));
}
