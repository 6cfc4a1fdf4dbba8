#pragma once
// Backend thread: turns a record into a line laid out by options::pattern. The pattern is
// compiled once, then rendered per call site and second (site_line: the date and the site's own
// fields merged with the literals); the message comes from message_format.h.
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <gidlog/detail/record.h>
#include <gidlog/options.h>

#include "backend/message_format.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

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
  // Appends the message alone, no pattern and no newline (when no sink reads the line).
  result format_message_only(const record& r, fmt::memory_buffer& out);

  // The arguments of the record formatted last; empty when it had none or was formatted on the
  // calling thread (preformatted).
  std::span<const arg_value> last_args() const noexcept {
    return args_valid_ ? std::span<const arg_value>(args_) : std::span<const arg_value>{};
  }

  const std::string& logger_name() const noexcept { return name_; }
  // The name of the logger of `r`: a named logger's, the site's, or options::name.
  std::string_view logger_name(const record& r, const site_cache& sc) const noexcept;
  // Calls a rate-limited macro skipped before the record formatted last (0: none or not one).
  std::uint64_t last_suppressed() const noexcept { return last_suppressed_; }
  // While set, every message starts with "[backtrace] " (the writer replays a ring).
  void set_replaying(bool on) noexcept { replaying_ = on; }

 private:
  struct token {
    char flag;        // 0: literal
    std::string text;
  };
  void refresh_date(std::int64_t sec);
  void append_dynamic(char flag, const record& r, const site_info& site, const site_cache& sc, std::int64_t wall_ns,
                      fmt::memory_buffer& out);
  std::string_view date_field(char flag) const;
  const site_info* site_of(const record& r, std::uint32_t& nomem_bytes) const noexcept;
  void append_message(const record& r, const site_info& site, std::uint32_t nomem_bytes, fmt::memory_buffer& out,
                      result& res);

  // tokens_ rendered for `site` in second `sec` (cached_sec_, whose date_ is current).
  void render_site(site_line& sl, const site_info& site, const site_cache& sc, std::int64_t sec, bool named) const;

  std::vector<token> tokens_;
  std::uint64_t id_;  // this formatter's renderings in site_cache::line carry it
  bool utc_;
  bool escape_newlines_;
  std::string name_;
  std::int64_t cached_sec_ = INT64_MIN;
  std::tm tm_{};
  char date_[32];  // "YYYY" "MM" "DD" "HH" "MM" "SS" digits, refreshed once a second
  std::vector<arg_value> args_;  // kept at its size between records: decode_args resizes it
  bool args_valid_ = false;
  std::uint64_t last_suppressed_ = 0;
  bool replaying_ = false;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
