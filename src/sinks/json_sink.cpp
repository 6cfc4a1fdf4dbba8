// Backend thread: the JSON lines sink. Builds each line from log_line's parts (never its text)
// into a buffer it reuses, and appends it to a log_file (sinks/log_file.h), which buffers,
// reopens and rotates as for the text file sinks. What a call site repeats in every line (file,
// function, logger, format string, argument keys) is escaped once and kept; the date once a
// second.
#include <array>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/compile.h>
#include <fmt/format.h>

#include <gidlog/file_sinks.h>
#include <gidlog/sink.h>

#include "sinks/json_writer.h"
#include "sinks/log_file.h"

namespace gidlog {
inline namespace v0 {
namespace {

using detail::escaped_bound;
using detail::json_cursor;
using detail::value_bound;

// The keys every line has; an argument may not take one of them.
bool fixed_key(std::string_view k) noexcept {
  switch (k.size()) {
    case 2: return k == "ts";
    case 3: return k == "gid" || k == "msg" || k == "ctx";
    case 4: return k == "file" || k == "line" || k == "func" || k == "tmpl";
    case 5: return k == "level";
    case 6: return k == "logger";
    default: return false;
  }
}

// Each member's key: how many "f_" go in front of its name so that no two keys of the object are
// equal, and none is a fixed key (top level). Returns the bytes the keys take at most.
std::size_t choose_keys(std::span<const field> fields, bool top_level, std::vector<std::uint32_t>& prefixes);

// `"key":value` for each member, each after a comma except the first of a nested object.
void write_members(json_cursor& c, std::span<const field> fields, bool top_level,
                   const std::vector<std::uint32_t>& prefixes) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (top_level || i != 0) c.ch(',');
    c.ch('"');
    for (std::uint32_t k = 0; k < prefixes[i]; ++k) c.lit("f_");
    c.escaped(fields[i].name);
    c.lit("\":");
    c.value(fields[i].value);
  }
}

// What one call site's lines share, escaped once: built from a line, kept while later lines have
// the same file, line, function, logger, format string and argument names (compared by content:
// a view's address may be reused for other text, e.g. a replayed backlog's copies).
class site_parts {
 public:
  bool matches(const log_line& l) const noexcept {
    if (l.line != line_ || l.fields.size() != names_.size() || l.format != format_ || l.file != file_ ||
        l.function != function_ || l.logger != logger_)
      return false;
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (l.fields[i].name != names_[i]) return false;
    return true;
  }

  void build(const log_line& l, std::vector<std::uint32_t>& prefixes) {
    format_ = l.format;
    file_ = l.file;
    function_ = l.function;
    logger_ = l.logger;
    line_ = l.line;
    names_.clear();
    for (const field& f : l.fields) names_.emplace_back(f.name);
    fmt::memory_buffer b;
    b.resize(128 + escaped_bound(l.file.size() + l.function.size() + l.logger.size() + l.format.size()) +
             choose_keys(l.fields, true, prefixes));
    json_cursor c(b.data());
    c.lit(",\"file\":");
    c.quoted(l.file);
    c.lit(",\"line\":");
    c.integer(l.line);
    c.lit(",\"func\":");
    c.quoted(l.function);
    c.lit(",\"logger\":");
    c.quoted(l.logger);
    c.lit(",\"msg\":\"");
    const char* const after_middle = c.end();
    c.lit("\",\"tmpl\":");
    c.quoted(l.format);
    const char* const after_tmpl = c.end();
    key_ends_.clear();
    for (std::size_t i = 0; i < l.fields.size(); ++i) {
      c.lit(",\"");
      for (std::uint32_t k = 0; k < prefixes[i]; ++k) c.lit("f_");
      c.escaped(l.fields[i].name);
      c.lit("\":");
      key_ends_.push_back(static_cast<std::uint32_t>(c.end() - b.data()));
    }
    text_.assign(b.data(), c.end());
    middle_ = static_cast<std::size_t>(after_middle - b.data());
    tmpl_end_ = static_cast<std::size_t>(after_tmpl - b.data());
  }

  // `,"file":"…",…,"msg":"` : up to the message.
  std::string_view middle() const noexcept { return std::string_view(text_).substr(0, middle_); }
  // `","tmpl":"…"` : from the end of the message.
  std::string_view tmpl() const noexcept { return std::string_view(text_).substr(middle_, tmpl_end_ - middle_); }
  // `,"key":` of argument i.
  std::string_view key(std::size_t i) const noexcept {
    const std::size_t from = i == 0 ? tmpl_end_ : key_ends_[i - 1];
    return std::string_view(text_).substr(from, key_ends_[i] - from);
  }
  std::size_t size() const noexcept { return text_.size(); }

 private:
  std::string format_, file_, function_, logger_;
  std::uint32_t line_ = 0;
  std::vector<std::string> names_;
  std::string text_;  // middle, tmpl, then the keys
  std::size_t middle_ = 0, tmpl_end_ = 0;
  std::vector<std::uint32_t> key_ends_;
};

// The 9 digits of ns < 10^9. Two digits at a time from independent quotients: a loop of nine
// divisions by 10, each waiting for the last, took a third of the line's time.
void put_nanoseconds(json_cursor& c, std::uint32_t ns) noexcept {
  static constexpr char pairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  const std::uint32_t high = ns / 10000, low = ns % 10000;  // 5 and 4 digits
  // Straight into the line: a 9-byte array read back whole after five small stores stalls on
  // store forwarding (perf: 16% of the line).
  char* d = c.take(9);
  d[0] = static_cast<char>('0' + high / 10000);
  std::memcpy(d + 1, pairs + 2 * (high / 100 % 100), 2);
  std::memcpy(d + 3, pairs + 2 * (high % 100), 2);
  std::memcpy(d + 5, pairs + 2 * (low / 100), 2);
  std::memcpy(d + 7, pairs + 2 * (low % 100), 2);
}

// Formats log_lines as JSON lines; one per sink, used on the backend thread only.
class json_line {
 public:
  std::string_view format(const log_line& l);

 private:
  const site_parts& parts_of(const log_line& l);
  void refresh_date(std::int64_t sec);

  fmt::memory_buffer out_;
  // Direct-mapped by the format string's address and the line: two sites that share a slot take
  // turns rebuilding it, which costs time, never correctness.
  std::array<site_parts, 256> sites_;
  std::vector<std::uint32_t> prefixes_;  // scratch: per member, how many "f_"
  std::int64_t cached_sec_ = INT64_MIN;
  // {"ts":"YYYY-MM-DDTHH:MM:SS.   for cached_sec_
  static constexpr std::size_t date_size = 27;
  char date_[date_size + 1] = {};
};

const site_parts& json_line::parts_of(const log_line& l) {
  const auto h = (reinterpret_cast<std::uintptr_t>(l.format.data()) >> 3) ^ (std::uintptr_t{l.line} * 0x9E3779B1u);
  site_parts& s = sites_[(h ^ (h >> 8)) % sites_.size()];
  if (!s.matches(l)) s.build(l, prefixes_);
  return s;
}

void json_line::refresh_date(std::int64_t sec) {
  const time_t t = static_cast<time_t>(sec);
  tm utc{};
  gmtime_r(&t, &utc);
  fmt::format_to_n(date_, sizeof date_, FMT_COMPILE("{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}."),
                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  cached_sec_ = sec;
}

std::string_view json_line::format(const log_line& l) {
  const site_parts& site = parts_of(l);
  // The most the line can take: the time, level and gid (80), the site's parts, the message and
  // the values escaped at worst, the context.
  std::size_t bound = 80 + site.size() + escaped_bound(l.message.size());
  for (const field& f : l.fields) bound += value_bound(f.value);
  if (!l.context.empty()) bound += 16 + choose_keys(l.context, false, prefixes_);
  for (const field& f : l.context) bound += value_bound(f.value);
  if (out_.capacity() > (std::size_t{1} << 20) && bound < (std::size_t{1} << 16))
    out_ = fmt::memory_buffer();  // give back what a huge record took
  out_.resize(bound);
  json_cursor c(out_.data());

  std::int64_t sec = l.time_ns / 1'000'000'000, ns = l.time_ns % 1'000'000'000;
  if (ns < 0) {
    ns += 1'000'000'000;
    --sec;
  }
  if (sec != cached_sec_) refresh_date(sec);
  c.raw({date_, date_size});
  put_nanoseconds(c, static_cast<std::uint32_t>(ns));
  c.lit("Z\",\"level\":\"");
  c.raw(level_name(l.level));
  c.lit("\",\"gid\":");
  c.integer(l.gid);
  c.raw(site.middle());
  c.escaped(l.message);
  c.raw(site.tmpl());
  for (std::size_t i = 0; i < l.fields.size(); ++i) {
    c.raw(site.key(i));
    c.value(l.fields[i].value);
  }
  if (!l.context.empty()) {
    c.lit(",\"ctx\":{");
    write_members(c, l.context, false, prefixes_);
    c.ch('}');
  }
  c.lit("}\n");
  out_.resize(static_cast<std::size_t>(c.end() - out_.data()));
  return {out_.data(), out_.size()};
}

// Whether "f_" x `prefixes` + fields[i].name is a fixed key (top level) or the key of an earlier
// member (whose own prefixes are in `earlier`).
bool key_taken(std::span<const field> fields, std::size_t i, std::uint32_t prefixes, bool top_level,
               const std::vector<std::uint32_t>& earlier) {
  const std::string_view name = fields[i].name;
  if (prefixes == 0 && top_level && fixed_key(name)) return true;
  for (std::size_t j = 0; j < i; ++j) {
    // Compare "f_" x a + x with "f_" x b + y: drop the common prefixes, then the side with more
    // must hold the rest of them at the start of the other's name.
    std::uint32_t a = prefixes, b = earlier[j];
    std::string_view x = name, y = fields[j].name;
    if (a < b) {
      std::swap(a, b);
      std::swap(x, y);
    }
    if (y.size() != x.size() + 2 * std::size_t{a - b}) continue;
    bool same = true;
    for (std::uint32_t k = b; k < a && same; ++k) {
      same = y.substr(0, 2) == "f_";
      y.remove_prefix(2);
    }
    if (same && x == y) return true;
  }
  return false;
}

std::size_t choose_keys(std::span<const field> fields, bool top_level, std::vector<std::uint32_t>& prefixes) {
  prefixes.resize(fields.size());
  std::size_t bound = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::uint32_t p = 0;
    while (key_taken(fields, i, p, top_level, prefixes)) ++p;
    prefixes[i] = p;
    bound += 4 + 2 * std::size_t{p} + escaped_bound(fields[i].name.size());
  }
  return bound;
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
