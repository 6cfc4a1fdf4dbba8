#pragma once
// Reading text lines back into records, for any pattern options::pattern accepts (the same flags,
// see include/gidlog/options.h), and the time key shared with the JSON reader.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "record.h"

namespace gidlog_trace {

// Nanoseconds since 1970-01-01 of a civil date and time taken as UTC. Text times are compared as
// written (local time unless the pattern has %z, whose offset is applied); JSON times are UTC.
std::int64_t time_key(int year, int month, int day, int hour, int minute, int second, std::int64_t frac_ns) noexcept;

// "2026-11-30T19:28:18.812724809Z" (or +hh:mm); false when it is not such a time.
bool parse_rfc3339(std::string_view s, std::int64_t& out) noexcept;

// Reads one " key=value" pair sequence (the %C flag's output) into out; false when s is not one.
bool parse_logfmt_pairs(std::string_view s, std::vector<field_view>& out);

// How a value appears between logfmt's quotes (the inverse of what %C does), so a --field value
// can be compared with a quoted value as written.
std::string logfmt_escaped(std::string_view v);

class text_parser {
 public:
  // Throws std::invalid_argument for a pattern gidlog would reject (unknown flag, lone '%').
  // year: the year of records whose pattern has no %Y.
  explicit text_parser(std::string_view pattern, int year);

  // Fills r from line; on failure returns false and says why in `why` (static text).
  bool parse(std::string_view line, record& r, const char*& why);

  bool has_context() const noexcept { return has_context_; }

 private:
  struct token {
    char flag;         // 0: literal text
    std::string text;  // the literal
  };
  std::vector<token> tokens_;
  int year_;
  bool has_context_ = false;
};

}  // namespace gidlog_trace
