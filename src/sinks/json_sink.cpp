// Backend thread: the JSON lines sink. Builds each line from log_line's parts (never its text)
// straight into the buffer of a log_file (sinks/log_file.h), which writes, reopens and rotates
// as for the text file sinks. What a call site repeats in every line (file, function, logger,
// format string, argument keys) is escaped once and kept; the date once a second.
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

#include <gidlog/sinks/json.h>
#include <gidlog/sinks/sink.h>

#include "core/trace_fields.h"
#include "sinks/json_writer.h"
#include "sinks/log_file.h"

namespace gidlog {
inline namespace v0 {
namespace {

using detail::escaped_bound;
using detail::json_cursor;
using detail::value_bound;

// The keys every line has, and those a trace context adds; an argument may not take one of them
// (whether or not the line has a trace context: an argument's key is chosen once per call site).
bool fixed_key(std::string_view k) noexcept {
  switch (k.size()) {
    case 2: return k == "ts";
    case 3: return k == "gid" || k == "msg" || k == "ctx";
    case 4: return k == "file" || k == "line" || k == "func" || k == "tmpl";
    case 5: return k == "level";
    case 6: return k == "logger";
    case 7: return k == detail::trace_field::span_id;
    case 8: return k == detail::trace_field::trace_id;
    case 11: return k == detail::trace_field::trace_flags;
    default: return false;
  }
}

// The context fields written at the top level of a line rather than in "ctx": a W3C trace
// context's, with the names OpenTelemetry's log data model gives them. Index into
// json_line::top_, in the order they are written; -1 for the others.
int top_level_context_key(std::string_view k) noexcept {
  if (k == detail::trace_field::trace_id) return 0;
  if (k == detail::trace_field::span_id) return 1;
  if (k == detail::trace_field::trace_flags) return 2;
  return -1;
}
constexpr std::string_view top_level_keys[3] = {",\"trace_id\":", ",\"span_id\":", ",\"trace_flags\":"};

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

// a == b. Most of what a site is compared by is short (a file name, a function, a logger, the
// argument names): up to 16 bytes compare with two overlapping loads from each, inline, instead of
// a call to memcmp each.
inline bool same(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char *x = a.data(), *y = b.data();
  if (n >= 8 && n <= 16) return (detail::load_u64(x) ^ detail::load_u64(y)) == 0 &&
                                (detail::load_u64(x + n - 8) ^ detail::load_u64(y + n - 8)) == 0;
  if (n >= 4 && n < 8) return detail::load_u32(x) == detail::load_u32(y) &&
                              detail::load_u32(x + n - 4) == detail::load_u32(y + n - 4);
  if (n < 4) {
    for (std::size_t i = 0; i < n; ++i)
      if (x[i] != y[i]) return false;
    return true;
  }
  return std::memcmp(x, y, n) == 0;
}

// What one call site's lines share, escaped once: built from a line, kept while later lines have
// the same file, line, function, logger, format string and argument names (compared by content:
// a view's address may be reused for other text, e.g. a replayed backlog's copies).
class site_parts {
 public:
  bool matches(const log_line& l) const noexcept {
    if (l.line != line_ || l.fields.size() != names_.size() || !same(l.format, format_) || !same(l.file, file_) ||
        !same(l.function, function_) || !same(l.logger, logger_))
      return false;
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (!same(l.fields[i].name, names_[i])) return false;
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

// Formats log_lines as JSON lines; one per sink, used on the backend thread only.
class json_line {
 public:
  // The most bytes the line of `l` can take; then write() writes it (the same l) at `out`, which
  // has that room, and returns the bytes written. Written in place, in the file's buffer: copying
  // the line there from a buffer of its own cost a tenth of it.
  std::size_t bound(const log_line& l);
  std::size_t write(const log_line& l, char* out);

 private:
  const site_parts& parts_of(const log_line& l);
  void refresh_date(std::int64_t sec);
  // Splits l.context into top_ and ctx_ (bound()'s, for write()).
  void split_context(const log_line& l);

  const site_parts* site_ = nullptr;  // bound()'s, for write()
  // Direct-mapped by the format string's address and the line: two sites that share a slot take
  // turns rebuilding it, which costs time, never correctness.
  std::array<site_parts, 256> sites_;
  std::vector<std::uint32_t> prefixes_;  // scratch: per member, how many "f_"
  // The line's context: the members of "ctx" (a view of l.context, or of ctx_rest_ when some
  // fields went to the top level), and the top-level ones (top_level_keys' order; null if absent).
  std::span<const field> ctx_;
  std::vector<field> ctx_rest_;
  const field* top_[3] = {};  std::int64_t cached_sec_ = INT64_MIN;
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

void json_line::split_context(const log_line& l) {
  top_[0] = top_[1] = top_[2] = nullptr;
  ctx_ = l.context;
  bool any = false;
  for (const field& f : l.context) {
    const int k = top_level_context_key(f.name);
    if (k >= 0) {
      top_[k] = &f;
      any = true;
    }
  }
  if (!any) return;  // no trace context: "ctx" is l.context as it is
  ctx_rest_.clear();  // keeps its capacity: no allocation once warm
  for (const field& f : l.context)
    if (top_level_context_key(f.name) < 0) ctx_rest_.push_back(f);
  ctx_ = ctx_rest_;
}

std::size_t json_line::bound(const log_line& l) {
  site_ = &parts_of(l);
  split_context(l);
  // The time, level and gid (80), the site's parts, the message and the values escaped at worst,
  // the context.
  std::size_t bound = 80 + site_->size() + escaped_bound(l.message.size());
  for (const field& f : l.fields) bound += value_bound(f.value);
  for (std::size_t k = 0; k < 3; ++k)
    if (top_[k] != nullptr) bound += top_level_keys[k].size() + value_bound(top_[k]->value);
  if (!ctx_.empty()) bound += 16 + choose_keys(ctx_, false, prefixes_);
  for (const field& f : ctx_) bound += value_bound(f.value);
  return bound;
}

std::size_t json_line::write(const log_line& l, char* out) {
  const site_parts& site = *site_;
  json_cursor c(out);
  std::int64_t sec = l.time_ns / 1'000'000'000, ns = l.time_ns % 1'000'000'000;
  if (ns < 0) {
    ns += 1'000'000'000;
    --sec;
  }
  if (sec != cached_sec_) refresh_date(sec);
  c.raw({date_, date_size});
  c.digits(static_cast<std::uint64_t>(ns / 10000), 5);  // two halves: two short chains of divisions
  c.digits(static_cast<std::uint64_t>(ns % 10000), 4);
  c.lit("Z\",\"level\":\"");
  c.raw(level_name(l.level));
  c.lit("\",\"gid\":");
  c.integer(l.gid);
  for (std::size_t k = 0; k < 3; ++k) {
    if (top_[k] == nullptr) continue;
    c.raw(top_level_keys[k]);
    c.value(top_[k]->value);
  }
  c.raw(site.middle());
  c.escaped(l.message);
  c.raw(site.tmpl());
  for (std::size_t i = 0; i < l.fields.size(); ++i) {
    c.raw(site.key(i));
    c.value(l.fields[i].value);
  }
  if (!ctx_.empty()) {
    c.lit(",\"ctx\":{");
    write_members(c, ctx_, false, prefixes_);
    c.ch('}');
  }
  c.lit("}\n");
  return static_cast<std::size_t>(c.end() - out);
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
  void write(const log_line& line) override {
    char* at = file_.line_room(json_.bound(line));
    file_.commit_line(json_.write(line, at), line.time_ns);
  }
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
