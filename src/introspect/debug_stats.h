#pragma once
// The JSON of /debug/gidlog/stats: counters, queue, backend lag and sinks.
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

namespace gidlog {
inline namespace v0 {
namespace detail {

// A rate from a growing total, over the last second or more: each read adds a sample, and the
// rate is taken against the newest sample at least one second old (or the oldest there is).
class rate_meter {
 public:
  rate_meter();
  double per_second(std::uint64_t total);

 private:
  std::mutex mu_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> samples_;
};

std::string stats_json(rate_meter& written);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
