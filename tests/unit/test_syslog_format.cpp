// The syslog sink's message bytes from hand-built log_lines: RFC 5424 and RFC 3164 layout, PRI,
// structured-data names and escaping, truncation with its marker, octet-counting framing.
#include <catch2/catch.hpp>

#include <ctime>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gidlog/sinks/sink.h>
#include <gidlog/sinks/syslog.h>

#include "sinks/syslog_format.h"

using gidlog::field;
using gidlog::field_value;
using gidlog::level;
using gidlog::syslog_format;
using gidlog::detail::syslog_formatter;

namespace {

constexpr std::int64_t when_ns = 1796030102117503211;  // 2026-11-30T09:15:02.117503211Z

field str(std::string_view name, std::string_view v) { return {name, {field_value::kind::string, false, 0, 0, 0, v}}; }
field num(std::string_view name, std::int64_t v) { return {name, {field_value::kind::signed_integer, false, v, 0, 0, {}}}; }

gidlog::log_line make_line(level l, std::string_view msg, std::span<const field> fields = {},
                           std::span<const field> ctx = {}) {
  return {l, 4711, when_ns, msg, msg, "auth.cpp", 12, "login", "main", "login {user}", fields, ctx};
}

syslog_formatter formatter(syslog_format f = syslog_format::rfc5424, std::string host = "web1", bool named = true) {
  syslog_formatter::config c;
  c.format = f;
  c.facility = 1;
  c.hostname = std::move(host);
  c.app_name = "auth";
  c.named_fields = named;
  return syslog_formatter(std::move(c));
}

std::string format(syslog_formatter& f, const gidlog::log_line& l, std::size_t max = 0, std::size_t* cut = nullptr) {
  std::string out;
  const std::size_t n = f.format(l, 4242, out, max);
  if (cut != nullptr) *cut = n;
  return out;
}

// The SD-PARAM value `v` as written, escaped.
std::string sd_value(std::string_view v) {
  std::string out;
  gidlog::detail::append_sd_value(out, v);
  return out;
}

std::string sd_name(std::string_view v) {
  std::string out;
  gidlog::detail::append_sd_name(out, v);
  return out;
}

}  // namespace

TEST_CASE("syslog: RFC 5424 message with site, context and named fields", "[syslog]") {
  const field fields[] = {str("user", "alice"), str("ip", "10.0.0.1"),
                          {"ms", {field_value::kind::floating, false, 0, 0, 3.2, {}}},
                          {"ok", {field_value::kind::boolean, true, 0, 0, 0, {}}},
                          {"n", {field_value::kind::unsigned_integer, false, 0, 18446744073709551615u, 0, {}}},
                          num("delta", -5)};
  const field ctx[] = {str("req", "r-42"), num("user_id", 7)};
  auto f = formatter();
  CHECK(format(f, make_line(level::info, "login alice from 10.0.0.1 took 3.2 ms", fields, ctx)) ==
        "<14>1 2026-11-30T09:15:02.117503Z web1 auth 4242 - "
        "[gidlog@32473 gid=\"4711\" file=\"auth.cpp\" line=\"12\" func=\"login\" logger=\"main\" req=\"r-42\" "
        "user_id=\"7\"][fields@32473 user=\"alice\" ip=\"10.0.0.1\" ms=\"3.2\" ok=\"true\" "
        "n=\"18446744073709551615\" delta=\"-5\"] login alice from 10.0.0.1 took 3.2 ms");

  SECTION("no fields element without arguments, or with named_fields off") {
    CHECK(format(f, make_line(level::info, "plain")) ==
          "<14>1 2026-11-30T09:15:02.117503Z web1 auth 4242 - [gidlog@32473 gid=\"4711\" file=\"auth.cpp\" "
          "line=\"12\" func=\"login\" logger=\"main\"] plain");
    auto off = formatter(syslog_format::rfc5424, "web1", false);
    CHECK(format(off, make_line(level::info, "x", fields, ctx)).find("fields@") == std::string::npos);
  }
  SECTION("an empty hostname is the nil value") {
    auto nohost = formatter(syslog_format::rfc5424, "");
    CHECK(format(nohost, make_line(level::info, "x")).starts_with("<14>1 2026-11-30T09:15:02.117503Z - auth 4242 - ["));
  }
  SECTION("the enterprise number names both elements") {
    syslog_formatter::config c;
    c.app_name = "a";
    c.enterprise_number = 99999;
    syslog_formatter g(c);
    const std::string m = format(g, make_line(level::info, "x", fields));
    CHECK(m.find("[gidlog@99999 gid=") != std::string::npos);
    CHECK(m.find("[fields@99999 user=") != std::string::npos);
  }
}

TEST_CASE("syslog: PRI from facility and level", "[syslog]") {
  CHECK(gidlog::detail::syslog_severity(level::trace) == 7);
  CHECK(gidlog::detail::syslog_severity(level::debug) == 7);
  CHECK(gidlog::detail::syslog_severity(level::info) == 6);
  CHECK(gidlog::detail::syslog_severity(level::warn) == 4);
  CHECK(gidlog::detail::syslog_severity(level::error) == 3);
  CHECK(gidlog::detail::syslog_severity(level::fatal) == 2);
  for (int facility : {0, 1, 3, 16, 23}) {
    syslog_formatter::config c;
    c.facility = facility;
    c.app_name = "a";
    syslog_formatter f(c);
    for (level l : {level::trace, level::info, level::warn, level::error, level::fatal}) {
      const std::string m = format(f, make_line(l, "x"));
      CHECK(m.starts_with(fmt::format("<{}>1 ", facility * 8 + gidlog::detail::syslog_severity(l))));
    }
  }
}

TEST_CASE("syslog: SD-PARAM values are escaped and always UTF-8", "[syslog]") {
  CHECK(sd_value(R"(a"b\c]d)") == R"(a\"b\\c\]d)");
  CHECK(sd_value("[ok] = yes") == "[ok\\] = yes");
  CHECK(sd_value("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  // Invalid: a lone continuation byte, a truncated sequence, an overlong '/', a surrogate, 0xFF.
  CHECK(sd_value("a\x80z") == "a\xEF\xBF\xBDz");
  CHECK(sd_value("a\xC3") == "a\xEF\xBF\xBD");
  CHECK(sd_value("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(sd_value("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(sd_value("\xFF") == "\xEF\xBF\xBD");
  // Newlines stay (one message either way); a receiver shows them its own way.
  CHECK(sd_value("two\nlines") == "two\nlines");

  const field ctx[] = {str("q", "say \"hi\" [x]\\"), str("bad", "\xFE")};
  auto f = formatter();
  const std::string m = format(f, make_line(level::info, "m", {}, ctx));
  CHECK(m.find(R"(q="say \"hi\" [x\]\\" bad=")" "\xEF\xBF\xBD\"]") != std::string::npos);
}

TEST_CASE("syslog: context keys and field names are mapped to SD-NAMEs", "[syslog]") {
  CHECK(sd_name("req") == "req");
  CHECK(sd_name("a b=c]d\"e") == "a_b_c_d_e");
  CHECK(sd_name("caf\xC3\xA9") == "caf__");
  CHECK(sd_name("tab\there") == "tab_here");
  CHECK(sd_name("") == "_");
  CHECK(sd_name(std::string(40, 'k')) == std::string(32, 'k'));
  CHECK(sd_name("dotted.name-ok_1") == "dotted.name-ok_1");

  // A context key that would repeat one of the site's names gets "ctx."; field names live in
  // their own element and keep theirs.
  const field ctx[] = {str("file", "upload.bin"), num("line", 3), str("user id", "u")};
  const field fields[] = {str("file", "f")};
  auto f = formatter();
  const std::string m = format(f, make_line(level::info, "m", fields, ctx));
  CHECK(m.find(R"(logger="main" ctx.file="upload.bin" ctx.line="3" user_id="u"][fields@32473 file="f"])") !=
        std::string::npos);
}

TEST_CASE("syslog: newlines stay inside the one message", "[syslog]") {
  auto f = formatter();
  const std::string m = format(f, make_line(level::warn, "first\nsecond\r\nthird"));
  CHECK(m.ends_with("] first\nsecond\r\nthird"));
  CHECK(m.starts_with("<12>1 "));
}

TEST_CASE("syslog: RFC 3164 message", "[syslog]") {
  std::time_t t = when_ns / 1'000'000'000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);  // "Nov 30 10:15:02", day space-padded
  const field ctx[] = {str("req", "r-42"), num("n", 7), str("who", "bob smith"), str("q", "a\"b"), str("e", "")};
  const field fields[] = {str("user", "alice")};

  auto net = formatter(syslog_format::rfc3164, "web1");
  CHECK(format(net, make_line(level::error, "disk full", fields, ctx)) ==
        fmt::format("<11>{} web1 auth[4242]: [gid-4711:auth.cpp:12] disk full req=r-42 n=7 who=\"bob smith\" "
                    "q=\"a\\\"b\" e=\"\"",
                    stamp));
  // Over a unix socket the sink leaves HOSTNAME out (an empty hostname), as syslog(3) does.
  auto local = formatter(syslog_format::rfc3164, "");
  CHECK(format(local, make_line(level::debug, "x")) == fmt::format("<15>{} auth[4242]: [gid-4711:auth.cpp:12] x", stamp));
}

TEST_CASE("syslog: a datagram too long is cut with a marker, never split inside a character", "[syslog]") {
  auto f = formatter();
  std::size_t cut = 0;
  const std::string whole = format(f, make_line(level::info, std::string(3000, 'x')));

  const std::string m = format(f, make_line(level::info, std::string(3000, 'x')), 480, &cut);
  CHECK(m.size() <= 480);
  CHECK(m.ends_with(fmt::format("x...[truncated {} bytes]", cut)));
  CHECK(cut == whole.size() - (m.size() - fmt::format("...[truncated {} bytes]", cut).size()));
  CHECK(m.find("[gidlog@32473 gid=\"4711\"") != std::string::npos);  // the structured data is whole

  // Fits: untouched.
  CHECK(format(f, make_line(level::info, "short"), 480, &cut).ends_with("] short"));
  CHECK(cut == 0);
  CHECK(format(f, make_line(level::info, std::string(whole.size() - 5, 'y')), whole.size(), &cut).size() <= whole.size());

  // Multi-byte characters: the cut lands between two of them.
  std::string euros;
  for (int i = 0; i < 400; ++i) euros += "\xE2\x82\xAC";
  const std::string e = format(f, make_line(level::info, euros), 480, &cut);
  const std::string kept = e.substr(e.find("] ") + 2, e.find("...[truncated") - e.find("] ") - 2);
  CHECK(kept.size() % 3 == 0);
  CHECK(e.size() <= 480);
}

TEST_CASE("syslog: structured data too long for the datagram is cut too", "[syslog]") {
  auto f = formatter();
  const std::string huge(1 << 20, 'v');  // a 1 MiB context value
  const field ctx[] = {str("req", "r-42"), str("blob", huge)};
  const field fields[] = {str("big", huge)};
  std::size_t cut = 0;
  const std::string m = format(f, make_line(level::info, "message", fields, ctx), 2048, &cut);
  CHECK(m.size() <= 2048);
  CHECK(m.ends_with(fmt::format("...[truncated {} bytes]", cut)));
  CHECK(cut > 2 * huge.size() - 2048);
  // Still well-formed: both elements closed, the names kept, values shortened.
  CHECK(m.find("[gidlog@32473 gid=\"4711\" file=\"auth.cpp\"") != std::string::npos);
  CHECK(m.find(" blob=\"vvv") != std::string::npos);
  CHECK(m.find("\"][fields@32473 big=\"vv") != std::string::npos);

  // So many context fields that even empty values do not fit: the structured data goes ("-").
  std::vector<field> many;
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) names.push_back(fmt::format("key{}", i));
  for (const std::string& n : names) many.push_back(str(n, "v"));
  const std::string g = format(f, make_line(level::info, "message", {}, many), 480, &cut);
  CHECK(g.size() <= 480);
  CHECK(g.find(" 4242 - - message...[truncated ") != std::string::npos);
}

TEST_CASE("syslog: RFC 3164 datagram cut", "[syslog]") {
  auto f = formatter(syslog_format::rfc3164, "web1");
  std::size_t cut = 0;
  const std::string m = format(f, make_line(level::info, std::string(5000, 'z')), 2048, &cut);
  CHECK(m.size() <= 2048);
  CHECK(m.ends_with(fmt::format("zzz...[truncated {} bytes]", cut)));
  CHECK(m.find("auth[4242]: [gid-4711:auth.cpp:12] zzz") != std::string::npos);
}

TEST_CASE("syslog: octet-counting frames (RFC 6587)", "[syslog]") {
  std::string out;
  gidlog::detail::append_octet_counted(out, "<14>1 - - - - - - hi");
  gidlog::detail::append_octet_counted(out, "");
  gidlog::detail::append_octet_counted(out, std::string(1000, 'a'));
  CHECK(out == "20 <14>1 - - - - - - hi0 1000 " + std::string(1000, 'a'));
}

TEST_CASE("syslog: header fields are printable ASCII within their RFC limits", "[syslog]") {
  using gidlog::detail::printable_ascii;
  CHECK(printable_ascii("my app\xC3\xA9", 48) == "my_app__");
  CHECK(printable_ascii(std::string(60, 'a'), 48).size() == 48);
  CHECK(printable_ascii("tag[1]:x", 32, "[]:") == "tag_1__x");
  CHECK(gidlog::detail::utf8_prefix("a\xE2\x82\xAC", 3) == "a");
  CHECK(gidlog::detail::utf8_prefix("a\xE2\x82\xAC", 4) == "a\xE2\x82\xAC");
  CHECK(gidlog::detail::utf8_prefix("abc", 10) == "abc");
}
