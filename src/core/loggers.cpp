// The named loggers' registry and the level gates of every logger.
#include "core/loggers.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include <gidlog/log.h>
#include <gidlog/options.h>

#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

std::atomic<std::uint64_t> g_logger_sinks_version{0};

std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

struct registry {
  std::mutex mu;
  std::map<std::string, logger*, std::less<>> by_name;  // loggers are leaked: references stay valid
  std::map<const logger*, std::vector<sink_ptr>> sinks;
  level keep_from = level::off;
};

registry& reg() {
  static registry* r = new registry;  // leaked: loggers are used at exit
  return *r;
}

void fill_gate(level_gate& g, level lvl, level keep_from) noexcept {
  for (unsigned i = 0; i < 8; ++i)
    g.action[i].store(i < 7 ? action_for(static_cast<level>(i), lvl, keep_from) : drop_action, std::memory_order_relaxed);
}

}  // namespace

void apply_global_levels(level global, level keep_from) noexcept {
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mu);
  r.keep_from = keep_from;
  g_level.store(static_cast<std::uint8_t>(global), std::memory_order_relaxed);
  fill_gate(g_root_gate, global, keep_from);
  for (auto& [name, lg] : r.by_name)
    fill_gate(logger_access::gate(*lg), logger_access::own_level(*lg) ? *logger_access::own_level(*lg) : global, keep_from);
}

void apply_global_level(level global) noexcept {
  level keep_from;
  {
    std::lock_guard<std::mutex> lock(reg().mu);
    keep_from = reg().keep_from;
  }
  apply_global_levels(global, keep_from);
}

std::vector<logger_sinks> logger_sink_snapshot() {
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<logger_sinks> out;
  for (auto& [lg, sinks] : r.sinks)
    if (!sinks.empty()) out.push_back({lg, sinks});
  return out;
}

level parse_level_spec(std::string_view spec, level fallback, std::vector<std::string>& errors) {
  level global = fallback;
  auto trim = [](std::string_view t) {
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    return t;
  };
  while (!spec.empty()) {
    const std::size_t comma = spec.find(',');
    const std::string_view part = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    const std::string_view name = eq == std::string_view::npos ? std::string_view{} : trim(part.substr(0, eq));
    const std::string_view value = eq == std::string_view::npos ? part : trim(part.substr(eq + 1));
    const std::optional<level> l = parse_level(value);
    if (eq != std::string_view::npos && name.empty()) {
      errors.push_back(fmt::format("GIDLOG_LEVEL: \"{}\" ignored: no logger name before '='", part));
    } else if (!l) {
      errors.push_back(fmt::format(
          "GIDLOG_LEVEL: \"{}\" ignored: \"{}\" is not a level (trace, debug, info, warn, error, fatal, off)", part, value));
    } else if (eq == std::string_view::npos) {
      global = *l;
    } else {
      get_logger(name).set_level(*l);
    }
  }
  return global;
}

}  // namespace detail

logger& get_logger(std::string_view name) {
  using namespace detail;
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mu);
  if (auto it = r.by_name.find(name); it != r.by_name.end()) return *it->second;
  logger* lg = logger_access::make(name);
  fill_gate(logger_access::gate(*lg), static_cast<level>(g_level.load(std::memory_order_relaxed)), r.keep_from);
  r.by_name.emplace(std::string(name), lg);
  return *lg;
}

logger& get_logger(std::string_view name, const logger_options& opt) {
  logger& lg = get_logger(name);
  lg.configure(opt);
  return lg;
}

void logger::set_level(gidlog::level l) noexcept {
  using namespace detail;
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mu);
  own_level_ = l;
  fill_gate(gate_, l, r.keep_from);
}

void logger::reset_level() noexcept {
  using namespace detail;
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mu);
  own_level_.reset();
  fill_gate(gate_, static_cast<gidlog::level>(g_level.load(std::memory_order_relaxed)), r.keep_from);
}

gidlog::level logger::level() const noexcept {
  detail::registry& r = detail::reg();
  std::lock_guard<std::mutex> lock(r.mu);
  return own_level_ ? *own_level_ : static_cast<gidlog::level>(detail::g_level.load(std::memory_order_relaxed));
}

void logger::configure(const logger_options& opt) {
  for (std::size_t i = 0; i < opt.sinks.size(); ++i)
    if (!opt.sinks[i]) throw std::invalid_argument(fmt::format("gidlog::logger_options::sinks[{}]: is null", i));
  for (const sink_ptr& s : opt.sinks) s->open();
  detail::registry& r = detail::reg();
  std::lock_guard<std::mutex> lock(r.mu);
  r.sinks[this] = opt.sinks;
  additive_.store(opt.additive, std::memory_order_relaxed);
  detail::g_logger_sinks_version.fetch_add(1, std::memory_order_release);
}

void set_rate_limit_clock(std::int64_t (*now_ns)() noexcept) noexcept {
  detail::g_rate_clock.store(now_ns != nullptr ? now_ns : &detail::steady_now_ns, std::memory_order_relaxed);
}

}  // namespace v0
}  // namespace gidlog
