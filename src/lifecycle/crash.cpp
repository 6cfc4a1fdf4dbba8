// The crash handler: on a fatal signal, std::terminate or quick_exit(), one FATAL record with what
// happened and a backtrace, then everything queued is written (bounded by
// options::crash_drain_timeout), then the previous disposition runs as if gidlog had not been
// there. LOG_FATAL's abort goes through the same drain.
//
// What runs on the crashing thread is kept to what is safe in a signal handler: the description
// is written into static storage with no allocation, the record refers to it by pointer, and the
// backend thread (which may allocate) symbolizes and formats it. Only when the crashing thread is
// the backend itself, or no backend runs, does the crashing thread format and write, and then it
// may allocate (bounded by the same timeout).
#include "lifecycle/crash.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <fmt/format.h>

#include <gidlog/gid.h>
#include <gidlog/log.h>
#include <gidlog/options.h>
#include <gidlog/arch/cpu.h>

#include "backend/backend.h"
#include "backend/crash_record.h"
#include "core/shared.h"
#include "lifecycle/crash_report.h"

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {

using namespace crash_report;

// A stop signal's record: a normal stop, no backtrace. "from pid" when a process sent it.
constinit site_info stop_site{gidlog::level::warn, 0, "gidlog", "gidlog", "signal_handler", nullptr,
                              "gidlog: stopped by {signal}"};
constinit site_info stop_from_site{gidlog::level::warn, 0, "gidlog", "gidlog", "signal_handler", nullptr,
                                   "gidlog: stopped by {signal} from pid {pid}"};

constexpr int max_signals = 32;  // crash_signals (at most 16) and stop_signals (at most 16)
struct saved_action {
  int sig = 0;
  bool stop = false;  // one of options::stop_signals: drain, no crash record
  struct sigaction old {};
};
saved_action g_saved[max_signals];
int g_nsaved = 0;
std::terminate_handler g_prev_terminate = nullptr;
std::atomic<bool> g_installed{false};
std::atomic<std::int64_t> g_timeout_ns{2'000'000'000};

std::atomic<pid_t> g_owner{0};       // the thread handling the crash
std::atomic<bool> g_handled{false};  // its drain is over: later signals go straight to the old handlers


bool is_fault(int sig) noexcept { return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE; }

std::int64_t now_ns() noexcept { return monotonic_ns(); }

void pause_ms(long ms) noexcept {
  timespec d{ms / 1000, (ms % 1000) * 1'000'000};
  nanosleep(&d, nullptr);
}

// Fills g_info's thread, gid and frames; frames before `pc` (the handler's own) are left out.
void capture(void* pc) noexcept {
  g_info.gid = gidlog::gid();
  g_info.thread_name[0] = '\0';
  prctl(PR_GET_NAME, g_info.thread_name, 0, 0, 0);
  g_info.thread_name[16] = '\0';
  void* raw[max_frames + 8];
  int n = backtrace(raw, max_frames + 8);
  int from = 0;
  if (pc != nullptr) {
    for (int i = 0; i < n; ++i)
      if (raw[i] == pc) {
        from = i;
        break;
      }
  } else if (n > 2) {
    from = 2;  // capture() and its caller
  }
  g_info.nframes = 0;
  g_info.first_exact = pc != nullptr && from < n && raw[from] == pc;
  for (int i = from; i < n && g_info.nframes < max_frames; ++i) g_info.frames[g_info.nframes++] = raw[i];
}

void* pc_of(void* uc) noexcept {
  if (uc == nullptr) return nullptr;
  auto* ctx = static_cast<ucontext_t*>(uc);
#if defined(__x86_64__)
  return reinterpret_cast<void*>(ctx->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return reinterpret_cast<void*>(ctx->uc_mcontext.pc);
#else
  (void)ctx;
  return nullptr;
#endif
}

// Closes the rings before a drain: from here on every caller that publishes a record sees
// wake_crash and parks in wake_backend() before its LOG_* call returns (all but this thread and
// the backend). membarrier(2) runs a full barrier on every CPU running a thread of the process,
// so each caller either published before it, and the drain's passes, which all begin after it,
// see the record, or loads the flag after it. So every LOG_* call that returned before the
// process died is in the file. Without membarrier (old kernels, qemu-user) a caller whose store
// was still in its core's store buffer when it loaded the flag may return with its record
// unseen: the pause makes that unlikely, not impossible (as in stop()).
void close_rings() noexcept {
  g_backend_sleeping.store(wake_crash, std::memory_order_seq_cst);
  if (!process_barrier()) pause_ms(2);
}

// Writes `rec` (if any) after everything already queued, within the timeout.
void drain(const record* rec) noexcept {
  crash_drain& c = shared().crash;
  const std::int64_t deadline = now_ns() + g_timeout_ns.load(std::memory_order_relaxed);
  // This thread may have crashed inside a LOG_* call: its stamp would hold the backend back.
  if (producer* p = tl_producer; p != nullptr && p->busy && p->slots != nullptr) {
    const std::uint64_t w = p->write.load(std::memory_order_relaxed);
    record& slot = p->slots[w & p->mask];
    if ((slot_word(slot).load(std::memory_order_relaxed) & 3) == lap_tag(w, p->mask)) unstamp_slot(slot, w, p->mask);
  }
  if (rec != nullptr) c.rec = *rec;
  else c.rec.meta = nullptr;
  c.deadline_ns = deadline;
  if (backend_is_this_thread()) {
    close_rings();
    backend_crash_drain_self(deadline);
    return;
  }
  if (g_gen.load(std::memory_order_acquire) != 0 && backend_alive()) {
    close_rings();
    // Asked only now: every pass that sees the request begins after the barrier.
    c.requested.store(1, std::memory_order_release);
    // Not wake_backend(), which takes the flag: a plain futex wake (async-signal-safe). A backend
    // that missed it naps at most a poll (backend/sleep.cpp).
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&g_backend_sleeping), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    // A little past the deadline: the backend stops waiting for in-flight stamps at the deadline
    // and still has to write and flush.
    while (c.done.load(std::memory_order_acquire) == 0 && now_ns() < deadline + 200'000'000) pause_ms(1);
    if (c.done.load(std::memory_order_acquire) == 0) {
      static const char msg[] = "gidlog: crash: gave up writing the queued records (a sink is stalled)\n";
      (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    }
    return;
  }
  if (rec != nullptr) {
    record copy = *rec;
    write_crash_record_sync(copy, deadline);
  }
}


// Claims the crash for this thread. False: another thread owns it (this one waited for it).
bool claim() noexcept {
  const auto me = static_cast<pid_t>(gidlog::gid());
  pid_t expected = 0;
  if (g_owner.compare_exchange_strong(expected, me, std::memory_order_acq_rel)) return true;
  if (expected != me) {
    // Two threads crashing at once: the first one writes the log; this one waits for it (bounded)
    // and then dies with its own signal.
    const std::int64_t until = now_ns() + 2 * g_timeout_ns.load(std::memory_order_relaxed) + 1'000'000'000;
    while (!g_handled.load(std::memory_order_acquire) && now_ns() < until) pause_ms(1);
  }
  return false;
}

// Puts back the disposition gidlog replaced and lets the signal take its course.
void chain(int sig, siginfo_t* si) noexcept {
  for (int i = 0; i < g_nsaved; ++i)
    if (g_saved[i].sig == sig) sigaction(sig, &g_saved[i].old, nullptr);
  // A fault the kernel raised happens again when the handler returns, now for the old handler,
  // with its real siginfo; anything else is sent again.
  if (si != nullptr && si->si_code > 0 && is_fault(sig)) return;
  syscall(SYS_tgkill, getpid(), static_cast<pid_t>(gidlog::gid()), sig);
}

bool is_stop_signal(int sig) noexcept {
  for (int i = 0; i < g_nsaved; ++i)
    if (g_saved[i].sig == sig) return g_saved[i].stop;
  return false;
}

// SIGTERM, SIGINT (options::stop_signals): the process is told to stop. One WARN record saying
// so, everything queued written, then the default action (termination by the signal).
void on_stop_signal(int sig, siginfo_t* si) noexcept {
  if (backend_is_this_thread()) {
    // The backend blocks these signals, so only a signal sent to it by thread id lands here: it
    // cannot drain while it may be inside a sink. Send it to the process; another thread takes it.
    ::kill(getpid(), sig);
    return;
  }
  if (g_owner.load(std::memory_order_acquire) == static_cast<pid_t>(gidlog::gid()))
    return;  // this thread is draining for a crash already, and dies when it is done
  if (!claim()) {  // another thread handles a crash or a stop: it waited for it, now the default action
    chain(sig, si);
    return;
  }
  record r;
  const record* rec = nullptr;
  if (gidlog::get_level() <= gidlog::level::warn) {
    char name[32];  // room for copy_string's 16-byte loads
    text t{name, sizeof name};
    const char* abbrev = sigabbrev_np(sig);
    t << "SIG" << (abbrev != nullptr ? abbrev : "?");
    r = record{};
    r.ts = arch::cycles();
    r.gid = gidlog::gid();
    if (si != nullptr && si->si_code <= 0 && si->si_pid > 0)
      encode_args<&stop_from_site>(r, std::string_view(name, t.len), static_cast<long>(si->si_pid));
    else
      encode_args<&stop_site>(r, std::string_view(name, t.len));
    rec = &r;
  }
  drain(rec);
  g_handled.store(true, std::memory_order_release);
  chain(sig, si);  // blocked while this handler runs: delivered, with the default action, when it returns
}

void on_signal(int sig, siginfo_t* si, void* uc) {
  const int saved_errno = errno;
  if (g_handled.load(std::memory_order_acquire)) {
    chain(sig, si);
    errno = saved_errno;
    return;
  }
  if (is_stop_signal(sig)) {
    on_stop_signal(sig, si);
    errno = saved_errno;
    return;
  }
  if (!claim()) {
    // This thread crashed again while handling the crash (in a sink, while draining): skip the
    // record that crashed; or another thread handled its crash and this one goes down too.
    crash_resume_self_drain();
    chain(sig, si);
    errno = saved_errno;
    return;
  }
  text t{g_info.what, sizeof g_info.what};
  const char* abbrev = sigabbrev_np(sig);
  t << "SIG" << (abbrev != nullptr ? abbrev : "?");
  if (si != nullptr) {
    const char* code = code_name(sig, si->si_code);
    t << " (";
    if (code != nullptr) {
      t << code;
    } else {
      t << "code ";
      t.dec(si->si_code);
    }
    if (is_fault(sig) && si->si_code > 0) {
      t << ", address ";
      t.hex(reinterpret_cast<std::uintptr_t>(si->si_addr));
    }
    if (si->si_code <= 0) {
      t << ", from pid ";
      t.dec(si->si_pid);
    }
    t << ")";
  }
  capture(pc_of(uc));
  record r;
  make_record(r);
  drain(&r);
  g_handled.store(true, std::memory_order_release);
  chain(sig, si);
  errno = saved_errno;
}

void on_terminate() {
  if (!g_handled.load(std::memory_order_acquire) && claim()) {
    text t{g_info.what, sizeof g_info.what};
    std::exception_ptr e = std::current_exception();
    if (e == nullptr) {
      t << "std::terminate() called with no exception";
    } else {
      t << "uncaught exception ";
      const std::type_info* type = abi::__cxa_current_exception_type();
      int status = 0;
      char* name = type != nullptr ? abi::__cxa_demangle(type->name(), nullptr, nullptr, &status) : nullptr;
      t << (name != nullptr ? name : type != nullptr ? type->name() : "of unknown type");
      std::free(name);
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        t << ": " << ex.what();
      } catch (...) {
      }
    }
    capture(nullptr);
    record r;
    make_record(r);
    drain(&r);
    g_handled.store(true, std::memory_order_release);
  }
  if (g_prev_terminate != nullptr) g_prev_terminate();
  std::abort();
}

void on_quick_exit() {
  if (!g_installed.load(std::memory_order_acquire) || g_handled.load(std::memory_order_acquire) || !claim()) return;
  text t{g_info.what, sizeof g_info.what};
  t << "quick_exit() called";
  capture(nullptr);
  record r;
  make_record(r);
  drain(&r);
  g_handled.store(true, std::memory_order_release);
}

}  // namespace


void stop_signals_to_install(const options& opt, sigset_t& set) noexcept {
  sigemptyset(&set);
  if (!opt.crash_handler) return;
  for (int sig : opt.stop_signals) {
    if (std::find(opt.crash_signals.begin(), opt.crash_signals.end(), sig) != opt.crash_signals.end()) continue;
    struct sigaction cur {};
    if (sigaction(sig, nullptr, &cur) != 0) continue;
    if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL) sigaddset(&set, sig);
  }
}

void crash_install(const options& opt) {
  set_crash_record_fields(&crash_report::crash_record_fields);
  g_timeout_ns.store(static_cast<std::int64_t>(opt.crash_drain_timeout.count()) * 1'000'000, std::memory_order_relaxed);
  if (!opt.crash_handler || g_installed.load(std::memory_order_relaxed)) return;
  // Load what the handler uses now, so a crash does not run the dynamic loader for it.
  void* probe[2];
  backtrace(probe, 2);
  Dl_info d;
  dladdr(reinterpret_cast<void*>(&crash_install), &d);
  (void)sigabbrev_np(SIGSEGV);

  g_nsaved = 0;
  // Each signal once: a second entry would save gidlog's own handler as the one to chain to.
  auto taken = [](int sig) {
    for (int i = 0; i < g_nsaved; ++i)
      if (g_saved[i].sig == sig) return true;
    return false;
  };
  for (int sig : opt.crash_signals) {
    if (g_nsaved == max_signals) break;
    if (taken(sig)) continue;
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    // SA_NODEFER: a second crash while draining re-enters the handler instead of killing the
    // process outright, so the drain can skip the sink that crashed.
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    saved_action& s = g_saved[g_nsaved];
    if (sigaction(sig, &sa, &s.old) == 0) {
      s.sig = sig;
      s.stop = false;
      ++g_nsaved;
    }
  }
  // The stop signals whose action is still the default; never one the application handles or
  // ignores, nor one it listed in crash_signals (that one is a crash).
  sigset_t stop_set;
  stop_signals_to_install(opt, stop_set);
  for (int sig : opt.stop_signals) {
    if (g_nsaved == max_signals || sigismember(&stop_set, sig) != 1 || taken(sig)) continue;
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    // While one drains, the others wait: a second Ctrl-C ends the process when the drain is over.
    sa.sa_mask = stop_set;
    saved_action& s = g_saved[g_nsaved];
    if (sigaction(sig, &sa, &s.old) == 0) {
      s.sig = sig;
      s.stop = true;
      ++g_nsaved;
    }
  }
  g_prev_terminate = std::set_terminate(on_terminate);
  static const bool quick_exit_hooked = at_quick_exit(on_quick_exit) == 0;
  (void)quick_exit_hooked;
  g_installed.store(true, std::memory_order_release);
}

void crash_uninstall() noexcept {
  if (!g_installed.load(std::memory_order_relaxed)) return;
  for (int i = 0; i < g_nsaved; ++i) {
    struct sigaction cur {};
    // Leave a handler someone installed after us in place.
    if (sigaction(g_saved[i].sig, nullptr, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_signal)
      sigaction(g_saved[i].sig, &g_saved[i].old, nullptr);
  }
  g_nsaved = 0;
  if (std::get_terminate() == on_terminate) std::set_terminate(g_prev_terminate);
  g_installed.store(false, std::memory_order_release);
}

bool crash_owned_by_this_thread() noexcept {
  return g_owner.load(std::memory_order_acquire) == static_cast<pid_t>(gidlog::gid());
}

void crash_after_fork_child() noexcept {
  g_owner.store(0, std::memory_order_relaxed);
  g_handled.store(false, std::memory_order_relaxed);
  shared().crash.requested.store(0, std::memory_order_relaxed);
  shared().crash.done.store(0, std::memory_order_relaxed);
}

namespace {

// A LOG_FATAL from a signal handler inside this thread's LOG_* call went to the stash, and that
// call never ends to write it: taken out, for the drain to write last. Records stashed before it
// in the same call are lost with the call (counted in reentrant).
bool take_stashed_fatal(record& out) noexcept {
  producer* p = tl_producer;
  if (p == nullptr) return false;
  const std::uint8_t in = p->stash_in.load(std::memory_order_relaxed);
  if (in == p->stash_out) return false;
  const record& newest = p->stash[static_cast<std::uint8_t>(in - 1) % producer::stash_records];
  if (newest.meta->site == nullptr || newest.meta->site->level != gidlog::level::fatal) return false;
  out = newest;
  shared().reentrant.fetch_add(static_cast<std::uint8_t>(in - 1 - p->stash_out), std::memory_order_relaxed);
  p->stash_out = in;
  return true;
}

}  // namespace

[[noreturn]] void fatal_abort() noexcept {
  // LOG_FATAL's record is queued (or was written synchronously, or stashed): write everything,
  // bounded, then abort. The SIGABRT that follows finds the crash handled and goes to the old handler.
  record stashed{};
  const record* rec = take_stashed_fatal(stashed) ? &stashed : nullptr;
  if (!g_handled.load(std::memory_order_acquire) && claim()) {
    drain(rec);
    g_handled.store(true, std::memory_order_release);
  }
  std::abort();
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
