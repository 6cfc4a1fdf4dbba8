// Fuzzes the line pattern parser, line_formatter's constructor (src/backend/line_pattern.cpp):
// an arbitrary options::pattern must compile or throw std::invalid_argument naming the field,
// exactly when it has an unknown flag or ends in a lone '%'; a compiled pattern then formats a
// few fixed records (values, a preformatted text, a lost-to-nomem note, messages with newlines)
// at several times around the input's, and each line must equal the one a plain reading of the
// pattern gives (so the per-second date cache and the merged literal pieces are checked too).
//
// Input: the pattern, then optionally a NUL, a control byte (bit 0: utc, bit 1: escape_newlines),
// 8 bytes of wall-clock nanoseconds (little-endian, default 2026-02-24 16:25:32.320123456 UTC) and
// the logger name (the rest, default "main").
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"

using namespace gidlog_fuzz;
using gidlog::detail::record;
using gidlog::detail::site_info;

namespace {

constexpr std::string_view known_flags = "YmdHMSefFzlLtPnsg#!vC";

bool pattern_is_valid(std::string_view p) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '%') continue;
    if (i + 1 == p.size()) return false;
    char f = p[++i];
    if (f != '%' && known_flags.find(f) == std::string_view::npos) return false;
  }
  return true;
}

// What a line must read for one record: the pattern read character by character.
struct expected_fields {
  gidlog::level level;
  std::uint32_t gid;
  std::string_view file, path, function, logger;
  std::uint32_t line;
  std::string message;
};

std::string reference_line(std::string_view pattern, const gidlog::options& opt, const expected_fields& r,
                           std::int64_t wall_ns) {
  if (wall_ns < 0) wall_ns = 0;
  std::time_t sec = static_cast<std::time_t>(wall_ns / 1'000'000'000);
  auto sub = static_cast<std::uint64_t>(wall_ns % 1'000'000'000);
  std::tm tm{};
  if (opt.utc) gmtime_r(&sec, &tm);
  else localtime_r(&sec, &tm);
  long off = opt.utc ? 0 : tm.tm_gmtoff;
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    switch (char f = pattern[++i]) {
      case '%': out += '%'; break;
      case 'Y': out += fmt::format("{:04}", (tm.tm_year + 1900) % 10000); break;
      case 'm': out += fmt::format("{:02}", tm.tm_mon + 1); break;
      case 'd': out += fmt::format("{:02}", tm.tm_mday); break;
      case 'H': out += fmt::format("{:02}", tm.tm_hour); break;
      case 'M': out += fmt::format("{:02}", tm.tm_min); break;
      case 'S': out += fmt::format("{:02}", tm.tm_sec); break;
      case 'e': out += fmt::format("{:03}", sub / 1'000'000); break;
      case 'f': out += fmt::format("{:06}", sub / 1'000); break;
      case 'F': out += fmt::format("{:09}", sub); break;
      case 'z': out += fmt::format("{}{:02}{:02}", off < 0 ? '-' : '+', (off < 0 ? -off : off) / 3600, (off < 0 ? -off : off) / 60 % 60); break;
      case 'l': out += gidlog::level_name(r.level); break;
      case 'L': out += gidlog::level_name(r.level)[0]; break;
      case 't': out += std::to_string(r.gid); break;
      case 'P': out += std::to_string(::getpid()); break;
      case 'n': out += r.logger.empty() ? std::string_view(opt.name) : r.logger; break;
      case 's': out += r.file; break;
      case 'g': out += r.path; break;
      case '#': out += std::to_string(r.line); break;
      case '!': out += r.function; break;
      case 'C': break;  // the record has no context: nothing
      case 'v':
        for (char c : r.message) {
          if (opt.escape_newlines && c == '\n') out += "\\n";
          else if (opt.escape_newlines && c == '\r') out += "\\r";
          else out += c;
        }
        break;
      default: fail(fmt::format("reference_line: flag {}", f));
    }
  }
  out += '\n';
  return out;
}

constinit site_info s_values{gidlog::level::info, 50, "src/main.cpp", "main.cpp", "main", nullptr,
                             "GameRoom {} {:>6} {:.3f}|"};
constinit site_info s_named{gidlog::level::warn, 7, "a/b/c.cpp", "c.cpp", "handler", "db", "multi\nline\r{}"};
constinit site_info s_text{gidlog::level::error, 123456, "/abs/p.cpp", "p.cpp", "operator()", nullptr, "value {}"};
constinit site_info s_lost{gidlog::level::fatal, 1, "x.cpp", "x.cpp", "f", nullptr, "lost {}"};

struct sample {
  record r{};
  expected_fields want;
};

std::vector<sample> samples() {
  std::vector<sample> v;
  {
    sample s;
    gidlog::detail::encode_args<&s_values>(s.r, std::string_view("Startup->"), 42, 2.0 / 3);
    s.r.gid = 60;
    s.want = {s_values.level, 60, s_values.file, s_values.path, s_values.function, {}, s_values.line,
              "GameRoom Startup->     42 0.667|"};
    v.push_back(s);
  }
  {
    sample s;
    gidlog::detail::encode_args<&s_named>(s.r, std::string_view("a\nb"));
    s.r.gid = 0;
    s.want = {s_named.level, 0, s_named.file, s_named.path, s_named.function, "db", s_named.line, "multi\nline\ra\nb"};
    v.push_back(s);
  }
  {
    sample s;
    gidlog::detail::encode_message<&s_text>(s.r, "preformatted (1, 2)\n");
    s.r.gid = UINT32_MAX;
    s.want = {s_text.level, UINT32_MAX, s_text.file, s_text.path, s_text.function, {}, s_text.line,
              "preformatted (1, 2)\n"};
    v.push_back(s);
  }
  {
    sample s;
    gidlog::detail::make_nomem(s.r, 123456789, &s_lost);
    s.r.gid = 7;
    s.want = {s_lost.level, 7, s_lost.file, s_lost.path, s_lost.function, {}, s_lost.line,
              "[gidlog: out of memory: a message of 123456789 bytes was lost; format \"lost {}\"]"};
    v.push_back(s);
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<sample> records = samples();  // inline payloads: nothing to free

  reader in(data, size);
  gidlog::options opt;
  opt.pattern = std::string(in.until_nul());
  std::int64_t wall_ns = 1'771'950'332'320'123'456;
  if (!in.empty()) {
    std::uint8_t control = in.byte();
    opt.utc = (control & 1) != 0;
    opt.escape_newlines = (control & 2) != 0;
    if (in.left() >= 8) wall_ns = in.value<std::int64_t>();
    if (!in.empty()) opt.name = std::string(in.take(64));
  }

  std::optional<gidlog::detail::line_formatter> lf;
  const bool valid = pattern_is_valid(opt.pattern);
  try {
    lf.emplace(opt);
  } catch (const std::invalid_argument& e) {
    check(!valid, "a valid pattern was rejected: " + show(opt.pattern) + ": " + e.what());
    check(std::string_view(e.what()).find("gidlog::options::pattern") != std::string_view::npos,
          std::string("the error does not name the field: ") + e.what());
    return 0;
  }
  check(valid, "an invalid pattern was accepted: " + show(opt.pattern));

  // Around the input's time: the same second, the next, back again, before the epoch.
  const std::int64_t w = wall_ns / 2;  // keeps w +- 1 s in range
  const std::int64_t times[] = {w, w + 1, w + 1'000'000'000, w - 1'000'000'000, w, -1, 0, w % 1'000'000'000};
  fmt::memory_buffer out;
  for (std::int64_t t : times) {
    for (const sample& s : records) {
      out.clear();
      auto res = lf->format(s.r, t, out);
      std::string got(out.data(), out.size());
      std::string want = reference_line(opt.pattern, opt, s.want, t);
      if (got != want) {
        fail(fmt::format("pattern \"{}\" at {} ns:\n  want \"{}\"\n  got  \"{}\"", show(opt.pattern), t, show(want),
                         show(got)));
      }
      check(res.format_ok, "format_ok is false");
      check(res.msg_begin <= res.msg_end && res.msg_end <= out.size(), "message bounds");
      if (opt.pattern.find("%v") == std::string::npos) check(res.msg_begin == 0 && res.msg_end == 0, "no %v: bounds");
    }
  }
  return 0;
}
