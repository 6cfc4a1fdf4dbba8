#pragma once
// Small pieces the commands share: time windows, time and JSON text, percentiles.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "record.h"

namespace gidlog_trace {

// A --from / --to bound: a whole time, or a time of day (then compared with each record's).
struct time_bound {
  std::int64_t ns = 0;
  bool time_of_day = false;
};

// "2026-11-30T19:28:18.5Z", "1130/192818.812" (the default pattern's; this year), "19:28:18[.5]".
std::optional<time_bound> parse_time_bound(std::string_view s, int year);

struct record_filter {
  std::optional<time_bound> from, to;  // inclusive
  level min_level = level::trace;
  bool pass(level l, std::int64_t time_ns) const noexcept;
  bool pass(const record& r) const noexcept { return pass(r.lvl, r.time_ns); }
};

// "2026-11-30T19:28:18.812724" from a time key (microseconds).
std::string format_time(std::int64_t ns);

// s as the inside of a JSON string.
void append_json_escaped(std::string& out, std::string_view s);
std::string json_quoted(std::string_view s);

// Nearest rank: the smallest value with at least p % of the values at or below it; values sorted.
std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p);

}  // namespace gidlog_trace
