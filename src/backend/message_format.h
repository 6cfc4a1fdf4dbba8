#pragma once
// Backend thread: a record's message. Decodes the arguments the caller copied into the record and
// formats them with the call site's format string, which is parsed once and cached in the site.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <gidlog/detail/format_names.h>
#include <gidlog/detail/record.h>
#include <gidlog/sinks/sink.h>

#include "core/decimal.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

// One decoded argument.
struct arg_value {
  arg_kind kind;
  union {
    bool b;
    char c;
    std::int64_t i;
    std::uint64_t u;
    float f;
    double d;
    long double ld;
    const void* p;
  };
  std::string_view s;             // string: the text; custom: the value's bytes
  custom_format_fn fn = nullptr;  // custom only
};

// A line_formatter's pattern rendered for one call site and one second (line_pattern.cpp): the
// literals, the date and the flags that are the same for every record of the site (level, file,
// line, function, logger name) merged into `text`, so a record appends a few pieces instead of
// one per flag. Each piece is a stretch of `text` followed by a per-record flag (0: none).
struct site_line {
  struct piece {
    std::uint32_t begin, end;  // in text
    char flag;                 // 0, or a flag that changes per record ('v', 'e', 't', ...)
  };
  std::uint64_t owner = 0;  // the line_formatter's id; 0: not rendered
  std::int64_t sec = 0;     // the second the date parts are for
  bool named = false;       // rendered for records that carry their logger (%n per record)
  std::string text;
  std::vector<piece> pieces;
};

// What the backend derives once per call site: string lengths and the parsed format string.
// Lives in site_info::backend_cache; created under the writer lock, never freed by the backend.
struct site_cache {
  std::string_view file, path, function, logger;  // logger: empty when the site names none
  void* parsed = nullptr;                         // the parsed format string, made on first use
  site_line line;                                 // the pattern, rendered on first use
};
const site_cache& cache_of(const site_info& site);

// Frees site.backend_cache and resets it, for tests and fuzzers that make sites at run time.
// The backend never calls it: a LOG_* site lives as long as the program.
void free_site_cache(site_info& site) noexcept;

// Decodes the payload of a value record into `out` (resized to meta.nargs). `data` holds what
// encode_args wrote for `meta`; nothing checks it against a size.
void decode_args(const record_meta& meta, const unsigned char* data, std::vector<arg_value>& out);

// Appends the message of `site` with `args` to `out`. Never throws. On failure it appends a note
// instead of the message (nothing partial) and returns false:
//   "[gidlog: format error: <what>; format \"<format>\"]" when the format string does not fit the
//     arguments (only possible for a format string not checked at compile time), and
//   "[gidlog: formatting threw: <what>; format \"<format>\"]" when a deferred_format type's
//     fmt::formatter threw (<what> is "unknown exception" for something not a std::exception),
//     the note the caller writes when a formatter throws there.
// `args` must be the decoded arguments of a record of `site`: the parsed format is cached for
// that argument count.
bool format_message(const site_info& site, const std::vector<arg_value>& args, fmt::memory_buffer& out) noexcept;

// format_message for a run-time format string (runtime_format): checked here, the note
// "[gidlog: format error: <what>; format \"<format>\"]" instead of the message when it does not
// fit the arguments (returns false). Fewer placeholders than arguments is an error too.
bool format_runtime(std::string_view format, const std::vector<arg_value>& args, fmt::memory_buffer& out) noexcept;

// The fields of a site's arguments, in order, named by their placeholder ("{user}") or "arg<i>"
// for an unnamed one, values unset: a template to fill per record. Made once per site, with the
// parsed format string.
const std::vector<field>& named_fields(const site_info& site, unsigned nargs);

// Appends `a` as "{}" would format it. A deferred_format type's formatter may throw.
void append_plain(fmt::memory_buffer& out, const arg_value& a);

// Formats `d` like fmt's "{:.<precision>f}", faster for the common range.
void format_fixed(double d, int precision, fmt::memory_buffer& out);

// Room for n more bytes at the end of `out`, to be written in place and then taken with
// out.try_resize(out.size() + written).
[[gnu::always_inline]] inline char* room(fmt::memory_buffer& out, std::size_t n) {
  if (out.capacity() - out.size() < n) [[unlikely]] out.reserve(out.size() + n + 256);
  return out.data() + out.size();
}

// Appends without fmt's general loop: one capacity check, then a short copy inline (no memcpy
// call for up to 32 bytes).
[[gnu::always_inline]] inline void append(fmt::memory_buffer& out, std::string_view s) {
  copy_string(reinterpret_cast<unsigned char*>(room(out, s.size())), s);
  out.try_resize(out.size() + s.size());
}

// Integers, written in place (core/decimal.h): v in exactly n digits, zeros in front ...
inline void append_digits(fmt::memory_buffer& out, std::uint64_t v, int n) {
  write_digits(room(out, static_cast<std::size_t>(n)), v, n);
  out.try_resize(out.size() + static_cast<std::size_t>(n));
}
// ... and as "{}" writes them.
inline void append_uint(fmt::memory_buffer& out, std::uint64_t v) { append_digits(out, v, decimal_digits(v)); }
inline void append_int(fmt::memory_buffer& out, std::int64_t v) {
  if (v < 0) {
    out.push_back('-');
    append_uint(out, 0 - static_cast<std::uint64_t>(v));
  } else {
    append_uint(out, static_cast<std::uint64_t>(v));
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
