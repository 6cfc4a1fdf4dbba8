// Backend thread: the JSON lines sink. Builds each line from log_line's parts (never its text)
// into a buffer it reuses, with the date cached per second, and appends it to a log_file
// (sinks/log_file.h), which buffers, reopens and rotates as for the text file sinks.
#include <array>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/compile.h>
#include <fmt/format.h>

#include <gidlog/file_sinks.h>
#include <gidlog/sink.h>

#include "sinks/log_file.h"

namespace gidlog {
inline namespace v0 {
namespace {

// How append_escaped treats a byte: copied as it is, escaped (quote, backslash, control
// characters), the lead byte of a UTF-8 sequence of 2, 3 or 4 bytes (copied once the sequence is
// checked), or a byte no valid UTF-8 starts with (a continuation byte, C0, C1, F5-FF).
enum byte_kind : std::uint8_t { plain, escape, lead2, lead3, lead4, invalid };

constexpr std::array<std::uint8_t, 256> byte_kinds = [] {
  std::array<std::uint8_t, 256> k{};
  for (int c = 0; c < 256; ++c) {
    if (c < 0x20 || c == '"' || c == '\\') k[c] = escape;
    else if (c < 0x80) k[c] = plain;
    else if (c >= 0xC2 && c <= 0xDF) k[c] = lead2;
    else if (c >= 0xE0 && c <= 0xEF) k[c] = lead3;
    else if (c >= 0xF0 && c <= 0xF4) k[c] = lead4;
    else k[c] = invalid;
  }
  return k;
}();

// The length of the valid UTF-8 sequence at p (lead byte of kind `kind`), or 0 when it is not
// one: truncated, a wrong continuation byte, overlong, a surrogate (ED A0-BF), above U+10FFFF.
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end, std::uint8_t kind) noexcept {
  const std::size_t n = kind == lead2 ? 2 : kind == lead3 ? 3 : 4;
  if (static_cast<std::size_t>(end - p) < n) return 0;
  // The second byte's range depends on the lead byte; later ones are always 80-BF.
  unsigned char lo = 0x80, hi = 0xBF;
  switch (p[0]) {
    case 0xE0: lo = 0xA0; break;
    case 0xED: hi = 0x9F; break;
    case 0xF0: lo = 0x90; break;
    case 0xF4: hi = 0x8F; break;
    default: break;
  }
  if (p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return n;
}

// Appends `s` as the inside of a JSON string: see json_sink in gidlog/file_sinks.h.
void append_escaped(fmt::memory_buffer& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const auto* run = p;
    while (p < end && byte_kinds[*p] == plain) ++p;
    out.append(reinterpret_cast<const char*>(run), reinterpret_cast<const char*>(p));
    if (p == end) break;
    const std::uint8_t kind = byte_kinds[*p];
    if (kind == escape) {
      const unsigned char c = *p++;
      switch (c) {
        case '"': out.append(std::string_view("\\\"")); break;
        case '\\': out.append(std::string_view("\\\\")); break;
        case '\n': out.append(std::string_view("\\n")); break;
        case '\t': out.append(std::string_view("\\t")); break;
        case '\r': out.append(std::string_view("\\r")); break;
        case '\b': out.append(std::string_view("\\b")); break;
        case '\f': out.append(std::string_view("\\f")); break;
        default: {
          const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          out.append(u, u + 6);
        }
      }
    } else if (const std::size_t n = kind == invalid ? 0 : utf8_sequence(p, end, kind); n != 0) {
      out.append(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(p + n));
      p += n;
    } else {
      out.append(std::string_view("\\ufffd"));
      ++p;
    }
  }
}

void append_quoted(fmt::memory_buffer& out, std::string_view s) {
  out.push_back('"');
  append_escaped(out, s);
  out.push_back('"');
}

template <typename Int>
void append_int(fmt::memory_buffer& out, Int v) {
  const fmt::format_int f(v);
  out.append(f.data(), f.data() + f.size());
}

// The shortest text that reads back as the same double, always with a '.' or an exponent, so a
// parser reads a floating-point argument as one ("3.0", "-0.0", not "3", "-0").
void append_double(fmt::memory_buffer& out, double d) {
  const std::size_t start = out.size();
  fmt::format_to(fmt::appender(out), FMT_COMPILE("{}"), d);
  for (std::size_t i = start; i < out.size(); ++i)
    if (out[i] == '.' || out[i] == 'e') return;
  out.append(std::string_view(".0"));
}

void append_value(fmt::memory_buffer& out, const field_value& v) {
  switch (v.type) {
    case field_value::kind::boolean: out.append(v.b ? std::string_view("true") : std::string_view("false")); break;
    case field_value::kind::signed_integer: append_int(out, v.i); break;
    case field_value::kind::unsigned_integer: append_int(out, v.u); break;
    case field_value::kind::floating:
      if (std::isnan(v.d)) out.append(std::string_view("\"NaN\""));
      else if (std::isinf(v.d)) out.append(v.d > 0 ? std::string_view("\"Infinity\"") : std::string_view("\"-Infinity\""));
      else append_double(out, v.d);
      break;
    case field_value::kind::string: append_quoted(out, v.s); break;
  }
}

// The keys every line has; an argument may not take one of them.
bool fixed_key(std::string_view k) noexcept {
  static constexpr std::string_view keys[] = {"ts", "level", "gid", "file", "line", "func",
                                              "logger", "msg", "tmpl", "ctx"};
  for (std::string_view f : keys)
    if (k == f) return true;
  return false;
}

// Formats log_lines as JSON lines; one per sink, used on the backend thread only.
class json_line {
 public:
  std::string_view format(const log_line& l);

 private:
  void append_members(std::span<const field> fields, bool top_level);
  bool key_taken(std::span<const field> fields, std::size_t i, std::uint32_t prefixes, bool top_level) const;
  void refresh_date(std::int64_t sec);

  fmt::memory_buffer out_;
  std::vector<std::uint32_t> prefixes_;  // per member of the object being written: how many "f_"
  std::int64_t cached_sec_ = INT64_MIN;
  // {"ts":"YYYY-MM-DDTHH:MM:SS.   for cached_sec_
  static constexpr std::size_t date_size = 27;
  char date_[date_size + 1] = {};
};

void json_line::refresh_date(std::int64_t sec) {
  const time_t t = static_cast<time_t>(sec);
  tm utc{};
  gmtime_r(&t, &utc);
  fmt::format_to_n(date_, sizeof date_, FMT_COMPILE("{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}."),
                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  cached_sec_ = sec;
}

std::string_view json_line::format(const log_line& l) {
  if (out_.capacity() > (std::size_t{1} << 20)) out_ = fmt::memory_buffer();  // after a huge record
  out_.clear();
  std::int64_t sec = l.time_ns / 1'000'000'000, ns = l.time_ns % 1'000'000'000;
  if (ns < 0) {
    ns += 1'000'000'000;
    --sec;
  }
  if (sec != cached_sec_) refresh_date(sec);
  out_.append(date_, date_ + date_size);
  char digits[9];
  for (int i = 8; i >= 0; --i, ns /= 10) digits[i] = static_cast<char>('0' + ns % 10);
  out_.append(digits, digits + 9);
  out_.append(std::string_view("Z\",\"level\":\""));
  out_.append(level_name(l.level));
  out_.append(std::string_view("\",\"gid\":"));
  append_int(out_, l.gid);
  out_.append(std::string_view(",\"file\":"));
  append_quoted(out_, l.file);
  out_.append(std::string_view(",\"line\":"));
  append_int(out_, l.line);
  out_.append(std::string_view(",\"func\":"));
  append_quoted(out_, l.function);
  out_.append(std::string_view(",\"logger\":"));
  append_quoted(out_, l.logger);
  out_.append(std::string_view(",\"msg\":"));
  append_quoted(out_, l.message);
  out_.append(std::string_view(",\"tmpl\":"));
  append_quoted(out_, l.format);
  append_members(l.fields, true);
  if (!l.context.empty()) {
    out_.append(std::string_view(",\"ctx\":{"));
    append_members(l.context, false);
    out_.push_back('}');
  }
  out_.append(std::string_view("}\n"));
  return {out_.data(), out_.size()};
}

// `"name":value` for each field, each after a comma except the first of a nested object. A name
// already taken gets "f_" in front until it is free (file_sinks.h).
void json_line::append_members(std::span<const field> fields, bool top_level) {
  prefixes_.resize(fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::uint32_t p = 0;
    while (key_taken(fields, i, p, top_level)) ++p;
    prefixes_[i] = p;
    if (top_level || i != 0) out_.push_back(',');
    out_.push_back('"');
    for (std::uint32_t k = 0; k < p; ++k) out_.append(std::string_view("f_"));
    append_escaped(out_, fields[i].name);
    out_.append(std::string_view("\":"));
    append_value(out_, fields[i].value);
  }
}

// Whether "f_" x `prefixes` + fields[i].name is a fixed key (top level) or an earlier member's key.
bool json_line::key_taken(std::span<const field> fields, std::size_t i, std::uint32_t prefixes, bool top_level) const {
  const std::string_view name = fields[i].name;
  if (prefixes == 0 && top_level && fixed_key(name)) return true;
  for (std::size_t j = 0; j < i; ++j) {
    // Compare "f_" x a + x with "f_" x b + y: drop the common prefixes, then the side with more
    // must hold the rest of them at the start of the other's name.
    std::uint32_t a = prefixes, b = prefixes_[j];
    std::string_view x = name, y = fields[j].name;
    if (a < b) {
      std::swap(a, b);
      std::swap(x, y);
    }
    bool same = true;
    for (std::uint32_t k = b; k < a && same; ++k) {
      same = y.substr(0, 2) == "f_";
      y.remove_prefix(std::min<std::size_t>(2, y.size()));
    }
    if (same && x == y) return true;
  }
  return false;
}

class json_sink_impl final : public detail::file_backed_sink {
 public:
  json_sink_impl(std::string path, json_sink_options opts)
      : file_backed_sink(std::move(path), opts.file, opts.rotation, "json_sink", "json_sink_options::rotation") {}
  void write(const log_line& line) override { file_.append(json_.format(line), line.time_ns); }
  bool wants_text() const noexcept override { return false; }

 private:
  json_line json_;
};

}  // namespace

sink_ptr json_sink(std::string path, json_sink_options opts) {
  return std::make_shared<json_sink_impl>(std::move(path), std::move(opts));
}

}  // namespace v0
}  // namespace gidlog
