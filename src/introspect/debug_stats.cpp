// stats_json(): gidlog::get_counters(), the backend's view of its queue and sinks, and the
// thread and task counts, as one JSON object.
#include "introspect/debug_stats.h"

#include <typeinfo>

#include <fmt/format.h>

#include <gidlog/log.h>
#include <gidlog/options.h>
#include <gidlog/sinks/file.h>
#include <gidlog/introspect/threads.h>
#include <gidlog/runtime/task_registry.h>

#include "backend/backend.h"
#include "introspect/symbolizer.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

// "file_sink" for gidlog's own sinks, the demangled class name for others.
std::string sink_type(const sink& s) {
  std::string name = demangle(typeid(s).name());
  for (const char* prefix : {"gidlog::v0::", "(anonymous namespace)::"}) {
    const std::string p(prefix);
    if (name.compare(0, p.size(), p) == 0) name.erase(0, p.size());
  }
  if (name.size() > 5 && name.compare(name.size() - 5, 5, "_impl") == 0) name.resize(name.size() - 5);
  return name;
}

// JSON string contents: quotes, backslashes and control characters escaped.
std::string json_escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

rate_meter::rate_meter() { samples_.emplace_back(std::chrono::steady_clock::now(), get_counters().written); }

double rate_meter::per_second(std::uint64_t total) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto base = samples_.front();
  for (const auto& s : samples_) {
    if (now - s.first >= std::chrono::seconds(1)) base = s;
  }
  samples_.emplace_back(now, total);
  while (samples_.size() > 2 && now - samples_[1].first >= std::chrono::seconds(1)) samples_.pop_front();
  const double secs = std::chrono::duration<double>(now - base.first).count();
  return secs > 0 && total >= base.second ? static_cast<double>(total - base.second) / secs : 0.0;
}

std::string stats_json(rate_meter& written) {
  const counters c = get_counters();
  const backend_view b = view_backend(std::chrono::milliseconds(100));
  std::string sinks;
  for (std::size_t i = 0; i < b.sinks.size(); ++i) {
    const backend_view::sink_view& s = b.sinks[i];
    sinks += fmt::format(R"({}{{"index":{},"type":"{}","backlog_bytes":{},"lost_lines":{},"failures":{}}})",
                         i == 0 ? "" : ",", i, json_escaped(sink_type(*s.s)), s.backlog_bytes, s.dropped, s.failures);
  }
  const double lag_ms =
      b.pending + b.queued > 0 && b.last_written_ns > 0
          ? std::max<double>(0.0, static_cast<double>(b.now_ns - b.last_written_ns) / 1e6)
          : 0.0;
  return fmt::format(
      R"({{"running":{},"level":"{}","queue_depth":{},"pending":{},"records_per_second":{:.1f},)"
      R"("written":{},"dropped":{},"sink_errors":{},"format_errors":{},"nomem":{},"unwritten":{},)"
      R"("sink_dropped":{},"reentrant":{},"backend_lag_ms":{:.3f},"writer_busy":{},"sinks":[{}],)"
      R"("threads":{},"tasks":{}}})"
      "\n",
      b.running, level_name(get_level()), b.queued, b.pending, written.per_second(c.written), c.written, c.dropped,
      c.sink_errors, c.format_errors, c.nomem, c.unwritten, c.sink_dropped, c.reentrant, lag_ms, b.writer_busy, sinks,
      threads::count(), tasks::count());
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
