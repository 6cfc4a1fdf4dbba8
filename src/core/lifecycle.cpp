// The logger's lifecycle, in one place: start() and stop() (also at exit), fork handling,
// option validation. Runs on the caller's thread; starts and stops the backend thread.
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <gidlog/gidlog.h>

#include "backend/backend.h"
#include "backend/writer.h"
#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

std::mutex& control_mutex() {
  static std::mutex* m = new std::mutex;  // leaked: stop() runs at exit
  return *m;
}
std::uint32_t g_last_gen = 0;
bool g_membarrier = false;

void at_exit_stop() { gidlog::stop(); }

// The gid layer reports a failed fast-path check here: one WARN record saying why.
void gid_fallback_warning(const char* reason) noexcept { LOG_WARN("gid: {}", reason); }

void fork_prepare() { writer_mutex().lock(); }
void fork_parent() { writer_mutex().unlock(); }
void fork_child() {
  writer_mutex().unlock();
  // No backend thread in the child: everything it logs is written synchronously.
  g_gen.store(0, std::memory_order_relaxed);
  backend_forget_after_fork();
}

void once_per_process() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(at_exit_stop);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    g_membarrier = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  });
}

[[noreturn]] void invalid(std::string_view field, const std::string& why) {
  throw std::invalid_argument(fmt::format("gidlog::options::{}: {}", field, why));
}

options validated(const options& in) {
  options opt = in;
  if (const char* env = std::getenv("GIDLOG_LEVEL"); env != nullptr && *env != '\0') {
    auto l = parse_level(env);
    if (!l)
      throw std::invalid_argument(fmt::format(
          "GIDLOG_LEVEL: \"{}\" is not a level (trace, debug, info, warn, error, fatal, off)", env));
    opt.level = *l;
  }
  if (opt.level > level::off) invalid("level", "out of range");
  if (opt.flush_on > level::off) invalid("flush_on", "out of range");
  if (opt.queue_capacity < 64) invalid("queue_capacity", fmt::format("must be at least 64 (got {})", opt.queue_capacity));
  if (opt.queue_capacity > (std::size_t{1} << 30)) invalid("queue_capacity", "must be at most 2^30 records");
  if (opt.queue_policy != queue_policy::block && opt.queue_policy != queue_policy::drop &&
      opt.queue_policy != queue_policy::grow)
    invalid("queue_policy", "unknown value");
  if (opt.queue_policy == queue_policy::grow && opt.grow_max_bytes < opt.queue_capacity * sizeof(record))
    invalid("grow_max_bytes", fmt::format("must be at least queue_capacity x {} bytes", sizeof(record)));
  if (opt.backend_sleep.count() < 0 || opt.backend_sleep > std::chrono::milliseconds(100))
    invalid("backend_sleep", "must be between 0 and 100 ms");
  if (opt.pattern.empty()) invalid("pattern", "must not be empty");
  if (opt.sinks.empty()) opt.sinks.push_back(console_sink());
  for (std::size_t i = 0; i < opt.sinks.size(); ++i) {
    if (!opt.sinks[i]) invalid(fmt::format("sinks[{}]", i), "is null");
  }
  return opt;
}

}  // namespace
}  // namespace detail

void start(const options& in) {
  using namespace detail;
  options opt = validated(in);
  std::lock_guard<std::mutex> lock(control_mutex());
  if (g_gen.load(std::memory_order_relaxed) != 0) throw std::logic_error("gidlog::start: already running");
  auto w = std::make_unique<writer>(opt);  // compiles the pattern: throws naming options::pattern
  for (std::size_t i = 0; i < opt.sinks.size(); ++i) {
    try {
      opt.sinks[i]->open();
    } catch (const std::exception& e) {
      invalid(fmt::format("sinks[{}]", i), e.what());
    }
  }
  once_per_process();
  shared_state& s = shared();
  record_queue* q = s.queue.load(std::memory_order_relaxed);
  if (q == nullptr || s.capacity != opt.queue_capacity) {
    // An older queue is kept for the life of the process: idle threads' tokens point into it.
    static auto* retired = new std::vector<record_queue*>;
    if (q != nullptr) retired->push_back(q);
    q = new record_queue(opt.queue_capacity);
    s.queue.store(q, std::memory_order_release);
    s.capacity = opt.queue_capacity;
  }
  s.policy = opt.queue_policy;
  s.grow_max_records = opt.grow_max_bytes / sizeof(record);
  backend_start(std::move(w), opt, q);
  g_level.store(static_cast<std::uint8_t>(opt.level), std::memory_order_relaxed);
  if (++g_last_gen == 0) ++g_last_gen;
  g_gen.store(g_last_gen, std::memory_order_release);
  set_gid_warn_hook(gid_fallback_warning);  // delivers a reason kept from before start()
}

void stop() noexcept {
  using namespace detail;
  std::lock_guard<std::mutex> lock(control_mutex());
  if (g_gen.load(std::memory_order_relaxed) == 0) return;
  g_gen.store(0, std::memory_order_seq_cst);
  // Every thread that read the old generation has its in_flight stamp visible after this (it
  // pairs with the signal fence in log_call); then the backend drains until none is in flight.
  if (!g_membarrier || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  backend_stop();
}

bool running() noexcept { return detail::g_gen.load(std::memory_order_acquire) != 0; }

counters get_counters() noexcept {
  auto& s = detail::shared();
  return counters{s.written.load(std::memory_order_relaxed), detail::total_dropped(),
                  s.sink_errors.load(std::memory_order_relaxed), s.format_errors.load(std::memory_order_relaxed),
                  s.nomem.load(std::memory_order_relaxed), s.unwritten.load(std::memory_order_relaxed),
                  s.sink_dropped.load(std::memory_order_relaxed), s.reentrant.load(std::memory_order_relaxed)};
}

}  // namespace v0
}  // namespace gidlog
