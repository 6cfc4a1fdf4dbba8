#pragma once
// Backend thread: turns a record into a line. The pattern is compiled once; the date parts are
// cached per second; each call site's format string is parsed once and cached in its site_info.
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <gidlog/detail/record.h>
#include <gidlog/options.h>

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

// What the backend derives once per call site: string lengths and the parsed format string.
// Lives in site_info::backend_cache; created under the writer lock, never freed.
struct site_cache {
  std::string_view file, path, function, logger;  // logger: empty when the site names none
  void* parsed = nullptr;                         // the parsed format string, made on first use
};
const site_cache& cache_of(const site_info& site);

// Decodes the payload of a value record into `out` (cleared first).
void decode_args(const record_meta& meta, const unsigned char* data, std::vector<arg_value>& out);

// Appends the message of `site` with `args` to `out`. Never throws: a formatting error appends a
// note saying so and returns false.
bool format_message(const site_info& site, const std::vector<arg_value>& args, fmt::memory_buffer& out) noexcept;

// Formats `d` like fmt's "{:.<precision>f}", faster for the common range.
void format_fixed(double d, int precision, fmt::memory_buffer& out);

class line_formatter {
 public:
  // Throws std::invalid_argument naming options::pattern for an unknown flag.
  explicit line_formatter(const options& opt);

  struct result {
    const site_info* site;           // the record's call site (for a nomem record, from its payload)
    std::size_t msg_begin, msg_end;  // the message within `out`
    bool format_ok;
  };
  // Appends one whole line ("...\n") for record `r` to `out`.
  result format(const record& r, std::int64_t wall_ns, fmt::memory_buffer& out);

  const std::string& logger_name() const noexcept { return name_; }

 private:
  struct token {
    char flag;        // 0: literal
    std::string text;
  };
  void refresh_date(std::int64_t sec);
  void append_dynamic(char flag, const record& r, const site_info& site, const site_cache& sc, std::int64_t wall_ns,
                      fmt::memory_buffer& out);
  std::string_view date_field(char flag) const;

  std::vector<token> tokens_;
  // tokens_ rendered for the current second: literals and date fields merged into one text,
  // so a record appends a handful of pieces.
  std::vector<token> pieces_;
  bool utc_;
  bool escape_newlines_;
  std::string name_;
  std::int64_t cached_sec_ = INT64_MIN;
  std::tm tm_{};
  char date_[32];  // "YYYY" "MM" "DD" "HH" "MM" "SS" digits, refreshed once a second
  std::vector<arg_value> args_;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
