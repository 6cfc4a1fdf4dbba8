// The logger's lifecycle, in one place: start() and stop() (also at exit), fork handling,
// option validation. Runs on the caller's thread; starts and stops the backend thread.
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <gidlog/log.h>
#include <gidlog/options.h>
#include <gidlog/sinks/console.h>

#include "backend/backend.h"
#include "backend/writer.h"
#include "lifecycle/crash.h"
#include "core/loggers.h"
#include "core/shared.h"
#include "introspect/sigquit.h"
#include "sinks/compressor.h"

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

// Also stops the compressor thread that sinks opened without start() (or rotating after stop()) may
// have started.
// Then holds the other threads' synchronous writes (backend/backend.h: exit_hold_writes), so the
// process does not end in the middle of one; 5 s at most for a thread something at exit waits
// for. Not less: what runs after this handler can take a while (ThreadSanitizer's own at-exit
// handler sleeps 1 s, and the waiting threads wrote and tore a line when this was 1 s).
void at_exit_stop() {
  gidlog::stop();
  compressor_stop(shared().stop_timeout);
  exit_hold_writes(std::chrono::seconds(5));
}

// The gid layer reports a failed fast-path check here: one WARN record saying why.
void gid_fallback_warning(const char* reason) noexcept { LOG_WARN("gid: {}", reason); }

// The parent's producers as the child sees them: see producers_after_fork_child().
void producers_after_fork_child() noexcept {
  producer* mine = tl_producer;
  for (producer* p = shared().producers.load(std::memory_order_relaxed); p != nullptr; p = p->next) {
    // The parent's threads do not exist here: a stamp one of them left mid-LOG_* at the fork
    // would hold the child's backend forever, so no ring of theirs is read again.
    p->gen = detached_gen;  // never g_gen: the next LOG_* re-attaches (or writes synchronously)
    p->published_gen.store(detached_gen, std::memory_order_relaxed);
    // The rings hold the parent's records, which the child never writes: left as they are (the
    // pages are the parent's until written), and every thread gets a new ring at its next start().
    p->ring = nullptr;
    p->slots = nullptr;
    p->drain.store(nullptr, std::memory_order_relaxed);
    p->oldest = nullptr;
    p->write.store(0, std::memory_order_relaxed);
    p->limit.store(0, std::memory_order_relaxed);
    set_busy(*p, false);
    p->dropped.store(0, std::memory_order_relaxed);
    if (p != mine) {
      // A record a handler stashed in a thread that does not exist here: the parent's to write.
      p->stash_out = p->stash_in.load(std::memory_order_relaxed);
      p->in_use.store(false, std::memory_order_relaxed);
    }
  }
  shared().ring_records.store(0, std::memory_order_relaxed);
  shared().ring_bytes.store(0, std::memory_order_relaxed);  // grow's count starts over with the child's rings
  tl_attaching = false;
  tl_sync_call = false;
}


// fork() holds the writer lock across the fork when it can get it, so the child never inherits a
// sink in the middle of a write. It waits for it 50 ms at most: a backend stuck in a stalled sink
// must not make fork() (and every exec of a subprocess) hang. Without the lock, the child starts
// with a new lock and writes synchronously to stderr, not to sinks that may be mid-write.
bool g_fork_locked = false;
void fork_prepare() {
  g_fork_locked = false;
  for (int i = 0; i < 50 && !g_fork_locked; ++i) {
    g_fork_locked = writer_mutex().try_lock();
    if (!g_fork_locked) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
void fork_parent() {
  if (g_fork_locked) writer_mutex().unlock();
}
void fork_child() {
  if (g_fork_locked) {
    writer_mutex().unlock();
  } else {
    new (&writer_mutex()) std::mutex;  // its owner, the parent's backend thread, is not here
    backend_forget_writer_after_fork();
  }
  // No backend thread in the child: everything it logs is written synchronously, to the last
  // sinks, until it calls start(), which then begins with an empty queue of its own.
  g_gen.store(0, std::memory_order_relaxed);
  shared_state& s = shared();
  s.phase.store(lifecycle_phase::stopped, std::memory_order_relaxed);
  producers_after_fork_child();
  crash_after_fork_child();
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
    // The good parts apply; each bad one is reported and skipped (a typo in one logger's level
    // must not take the service's logging down).
    std::vector<std::string> errors;
    opt.level = parse_level_spec(env, opt.level, errors);
    for (const std::string& e : errors) {
      try {
        if (opt.error_handler) {
          opt.error_handler(e);
          continue;
        }
      } catch (...) {
      }
      std::fprintf(stderr, "gidlog: %s\n", e.c_str());
    }
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
  if (opt.backend_sleep_max.count() < 0 || opt.backend_sleep_max > std::chrono::milliseconds(100))
    invalid("backend_sleep_max", "must be between 0 and 100 ms");
  if (opt.backend_idle.count() < 0 || opt.backend_idle > std::chrono::seconds(10))
    invalid("backend_idle", "must be between 0 and 10 s");
  if (opt.pattern.empty()) invalid("pattern", "must not be empty");
  if (opt.backtrace.capacity > (std::size_t{1} << 20))
    invalid("backtrace.capacity", fmt::format("must be at most 2^20 records (got {})", opt.backtrace.capacity));
  if (opt.backtrace.trigger > level::off) invalid("backtrace.trigger", "out of range");
  if (opt.backtrace.keep_from > level::off) invalid("backtrace.keep_from", "out of range");
  if (opt.sink_backlog_bytes < 4096)
    invalid("sink_backlog_bytes", fmt::format("must be at least 4096 (got {})", opt.sink_backlog_bytes));
  if (opt.reopen_check.count() < 0) invalid("reopen_check", "must not be negative (0: never)");
  if (opt.crash_drain_timeout < std::chrono::milliseconds(1) || opt.crash_drain_timeout > std::chrono::minutes(10))
    invalid("crash_drain_timeout", "must be between 1 ms and 10 min");
  if (opt.stop_timeout.count() < 0) invalid("stop_timeout", "must not be negative (0: no limit)");
  for (std::size_t i = 0; i < opt.crash_signals.size(); ++i) {
    int sig = opt.crash_signals[i];
    if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
      invalid(fmt::format("crash_signals[{}]", i), fmt::format("{} is not a signal that can be caught", sig));
  }
  if (opt.crash_signals.size() > 16) invalid("crash_signals", "at most 16 signals");
  for (std::size_t i = 0; i < opt.stop_signals.size(); ++i) {
    int sig = opt.stop_signals[i];
    if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
      invalid(fmt::format("stop_signals[{}]", i), fmt::format("{} is not a signal that can be caught", sig));
  }
  if (opt.stop_signals.size() > 16) invalid("stop_signals", "at most 16 signals");
  if (opt.dump_on_sigquit && opt.crash_handler &&
      std::find(opt.crash_signals.begin(), opt.crash_signals.end(), SIGQUIT) != opt.crash_signals.end())
    invalid("dump_on_sigquit", "SIGQUIT is also in crash_signals: choose one");
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
      compressor_stop(opt.stop_timeout);  // an earlier sink's open() may have queued a compression
      invalid(fmt::format("sinks[{}]", i), e.what());
    }
  }
  once_per_process();
  shared_state& s = shared();
  // Each thread's ring is made when it first logs in this generation; a ring from an earlier one
  // is reused unless the capacity changed or a backend that stop() gave up on may still read it.
  std::uint64_t capacity = 64;
  while (capacity < opt.queue_capacity) capacity *= 2;
  const bool abandoned = s.phase.load(std::memory_order_relaxed) == lifecycle_phase::abandoned;
  if (abandoned) s.abandoned_epoch = s.ring_epoch;
  if (abandoned || capacity != s.capacity) ++s.ring_epoch;
  s.capacity = capacity;
  s.policy = opt.queue_policy;
  s.grow_max_records = opt.grow_max_bytes / sizeof(record);
  s.stop_timeout = opt.stop_timeout;
  do ++g_last_gen;
  while (g_last_gen == 0 || g_last_gen == detached_gen);
  // The backend thread starts with the stop signals blocked (it inherits this thread's mask), so
  // a SIGTERM for the process is taken by a thread that can wait for the backend to drain.
  {
    struct mask_restore {
      sigset_t old;
      ~mask_restore() { pthread_sigmask(SIG_SETMASK, &old, nullptr); }
    } restore;
    sigset_t stop_set;
    stop_signals_to_install(opt, stop_set);
    pthread_sigmask(SIG_BLOCK, &stop_set, &restore.old);
    backend_start(std::move(w), opt, g_last_gen);
  }
  s.phase.store(lifecycle_phase::running, std::memory_order_release);
  apply_global_levels(opt.level, opt.backtrace.capacity > 0 ? opt.backtrace.keep_from : level::off);
  static void* main_alt_stack = nullptr;  // start()'s thread, usually main, may never log
  use_alt_stack(main_alt_stack);
  crash_install(opt);  // the handlers only with options::crash_handler; the timeout always (LOG_FATAL)
  if (opt.dump_on_sigquit) sigquit_dump_install();
  g_gen.store(g_last_gen, std::memory_order_release);
  set_gid_warn_hook(gid_fallback_warning);  // delivers a reason kept from before start()
}

void start() { start(options{}); }

void stop() noexcept {
  using namespace detail;
  std::lock_guard<std::mutex> lock(control_mutex());
  if (g_gen.load(std::memory_order_relaxed) == 0) return;
  sigquit_dump_uninstall();  // first, so a dump in progress reaches the log
  shared_state& s = shared();
  // Before the generation goes to 0: a thread that sees 0 and writes synchronously must find the
  // backend draining and wait for it, or its record would overtake the ones it queued before.
  s.phase.store(lifecycle_phase::draining, std::memory_order_seq_cst);
  g_gen.store(0, std::memory_order_seq_cst);
  // Every thread that read the old generation has its slot's stamp visible after this (it pairs
  // with the signal fence in claim_fast); then the backend drains until none is in flight.
  if (!process_barrier()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::uint64_t left = 0;
  const bool joined = backend_stop(s.stop_timeout, left);
  crash_uninstall();
  // The rotated files' compressions: after the backend, whose last rotations queue some.
  compressor_stop(s.stop_timeout);
  if (!joined) {
    s.unwritten.fetch_add(left, std::memory_order_relaxed);
    char msg[160];
    int n = std::snprintf(msg, sizeof msg,
                          "gidlog: stop() gave up after %lld ms: %llu records could not be written (a sink is stalled)\n",
                          static_cast<long long>(s.stop_timeout.count()), static_cast<unsigned long long>(left));
    if (n > 0) (void)!::write(STDERR_FILENO, msg, static_cast<std::size_t>(std::min<int>(n, sizeof msg - 1)));
  }
  s.phase.store(joined ? lifecycle_phase::stopped : lifecycle_phase::abandoned, std::memory_order_release);
  if (joined) context_reclaim_all();  // every queued record is written: no snapshot is pointed at
}

namespace detail {

bool process_barrier() noexcept {
  return g_membarrier && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void use_alt_stack(void*& slot) noexcept {
  constexpr std::size_t bytes = 64 * 1024;
  stack_t cur{};
  if (sigaltstack(nullptr, &cur) != 0 || !(cur.ss_flags & SS_DISABLE)) return;  // has one already
  if (slot == nullptr) {
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return;
    slot = mem;
  }
  stack_t st{};
  st.ss_sp = slot;
  st.ss_size = bytes;
  sigaltstack(&st, nullptr);
}

}  // namespace detail

bool running() noexcept { return detail::g_gen.load(std::memory_order_acquire) != 0; }

counters get_counters() noexcept {
  auto& s = detail::shared();
  return counters{s.written.load(std::memory_order_relaxed), detail::total_dropped(),
                  s.sink_errors.load(std::memory_order_relaxed), s.format_errors.load(std::memory_order_relaxed),
                  s.nomem.load(std::memory_order_relaxed), s.unwritten.load(std::memory_order_relaxed),
                  s.sink_dropped.load(std::memory_order_relaxed), s.reentrant.load(std::memory_order_relaxed),
                  s.ring_bytes.load(std::memory_order_relaxed), s.rings_retired.load(std::memory_order_relaxed),
                  s.rings_enlarged.load(std::memory_order_relaxed)};
}

}  // namespace v0
}  // namespace gidlog
