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
#include "core/crash.h"

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

#include <gidlog/gidlog.h>

#include "backend/backend.h"
#include "core/shared.h"
#include "introspect/symbolizer.h"
#include "sinks/json_writer.h"

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {

constexpr int max_frames = 48;

// The one crash being handled (the first thread to crash owns it).
struct crash_info {
  char what[640];        // "SIGSEGV (SEGV_MAPERR, address 0x0)", "uncaught exception ...", ...
  char thread_name[17];  // prctl(PR_GET_NAME)
  std::uint32_t gid;
  void* frames[max_frames];
  int nframes;
  bool first_exact;  // frames[0] is the faulting instruction, not a return address
};
crash_info g_info;

// The record's argument: a pointer to g_info, copied as bytes and formatted by whoever writes it.
struct crash_ref {
  const crash_info* info;
};

// The crashing thread's frames with function, file:line and inlined calls (the libdw symbolizer,
// or dladdr() in a build without libdw), for whoever writes the crash record.
// Only dladdr() when this runs in a signal handler on the crashing thread itself (the backend
// crashed, or no backend runs): libdw reading DWARF overflowed the 64 KiB signal stack there.
std::vector<threads::frame> crash_frames(const crash_info& c) {
  std::vector<std::uintptr_t> pcs;
  for (int i = 0; i < c.nframes; ++i) pcs.push_back(reinterpret_cast<std::uintptr_t>(c.frames[i]));
  std::vector<threads::frame> out;
  stack_t ss{};
  const bool on_signal_stack = sigaltstack(nullptr, &ss) == 0 && (ss.ss_flags & SS_ONSTACK) != 0;
  try {
    if (!on_signal_stack) out = symbolize_within(pcs, c.first_exact, std::chrono::milliseconds(100));
  } catch (...) {
    out.clear();
  }
  if (!out.empty() || pcs.empty()) return out;
  // On the signal stack, or the symbolizer is busy (held by the thread that crashed?) or failed.
  for (std::uintptr_t pc : pcs) {
    threads::frame f;
    f.address = pc;
    Dl_info d{};
    if (dladdr(reinterpret_cast<void*>(pc), &d) != 0) {
      if (d.dli_fname != nullptr) f.module = d.dli_fname;
      f.offset = pc - reinterpret_cast<std::uintptr_t>(d.dli_fbase);
      if (d.dli_sname != nullptr) {
        f.function = demangle(d.dli_sname);
        f.offset = pc - reinterpret_cast<std::uintptr_t>(d.dli_saddr);
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace
}  // namespace detail

template <>
struct deferred_format<detail::crash_ref> : std::true_type {};

}  // namespace v0
}  // namespace gidlog

template <>
struct fmt::formatter<gidlog::detail::crash_ref> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  auto format(const gidlog::detail::crash_ref& ref, format_context& ctx) const {
    const auto& c = *ref.info;
    auto out = fmt::format_to(ctx.out(), "crash: {} in thread \"{}\" gid-{}", c.what, c.thread_name, c.gid);
    const auto frames = gidlog::detail::crash_frames(c);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const gidlog::threads::frame& f = frames[i];
      out = fmt::format_to(out, "\n    #{} {:#x} ", i, f.address);
      if (!f.file.empty()) {
        out = fmt::format_to(out, "{} at {}:{}{}", f.function.empty() ? "?" : f.function, f.file, f.line,
                             f.inlined ? " (inlined)" : "");
      } else if (!f.function.empty()) {
        out = fmt::format_to(out, "{}+{:#x} ({})", f.function, f.offset, f.module.empty() ? "?" : f.module);
      } else if (!f.module.empty()) {
        out = fmt::format_to(out, "({}+{:#x})", f.module, f.offset);
      } else {
        out = fmt::format_to(out, "?");
      }
    }
    return out;
  }
};

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {

constinit site_info crash_site{gidlog::level::fatal, 0, "gidlog", "gidlog", "crash_handler", nullptr, "{}"};
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

// ---- async-signal-safe text ---------------------------------------------------------------------

struct text {
  char* buf;
  std::size_t cap, len = 0;
  text& operator<<(std::string_view s) noexcept {
    for (char ch : s)
      if (len + 1 < cap) buf[len++] = ch;
    buf[len] = '\0';
    return *this;
  }
  text& hex(std::uintptr_t v) noexcept {
    char tmp[2 + 2 * sizeof v];
    int n = 0;
    do {
      tmp[n++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v != 0);
    *this << "0x";
    while (n > 0) *this << std::string_view(&tmp[--n], 1);
    return *this;
  }
  text& dec(long v) noexcept {
    char tmp[24];
    int n = 0;
    unsigned long u = v < 0 ? 0UL - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
    do {
      tmp[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) *this << "-";
    while (n > 0) *this << std::string_view(&tmp[--n], 1);
    return *this;
  }
};

const char* code_name(int sig, int code) noexcept {
  switch (code) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_KERNEL: return "SI_KERNEL";
    default: break;
  }
  if (sig == SIGSEGV) {
    if (code == SEGV_MAPERR) return "SEGV_MAPERR";
    if (code == SEGV_ACCERR) return "SEGV_ACCERR";
  } else if (sig == SIGBUS) {
    if (code == BUS_ADRALN) return "BUS_ADRALN";
    if (code == BUS_ADRERR) return "BUS_ADRERR";
    if (code == BUS_OBJERR) return "BUS_OBJERR";
  } else if (sig == SIGFPE) {
    if (code == FPE_INTDIV) return "FPE_INTDIV";
    if (code == FPE_INTOVF) return "FPE_INTOVF";
    if (code == FPE_FLTDIV) return "FPE_FLTDIV";
    if (code == FPE_FLTOVF) return "FPE_FLTOVF";
    if (code == FPE_FLTUND) return "FPE_FLTUND";
    if (code == FPE_FLTRES) return "FPE_FLTRES";
    if (code == FPE_FLTINV) return "FPE_FLTINV";
  } else if (sig == SIGILL) {
    if (code == ILL_ILLOPC) return "ILL_ILLOPC";
    if (code == ILL_ILLOPN) return "ILL_ILLOPN";
    if (code == ILL_ILLADR) return "ILL_ILLADR";
    if (code == ILL_PRVOPC) return "ILL_PRVOPC";
  }
  return nullptr;
}

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
    // that missed it naps at most a poll (backend.cpp, "Sleeping").
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

void make_record(record& r) noexcept {
  r = record{};
  r.ts = arch::cycles();
  r.gid = g_info.gid;
  r.context = tl_context;  // the crashing thread's request, kept alive by its scopes
  encode_args<&crash_site>(r, crash_ref{&g_info});
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

bool crash_record_fields(const site_info& site, std::span<const arg_value> args, std::vector<field>& fields,
                         fmt::memory_buffer& text) {
  if (&site != &crash_site || args.size() != 1 || args[0].kind != arg_kind::custom ||
      args[0].s.size() != sizeof(crash_ref))
    return false;
  crash_ref ref;
  std::memcpy(&ref, args[0].s.data(), sizeof ref);
  const crash_info& c = *ref.info;
  const std::vector<threads::frame> frames = crash_frames(c);
  // [{"addr":"0x…","func":"…","file":"…","line":23,"inlined":true,"module":"…","offset":"0x…"}, …]
  std::size_t bound = 8;
  for (const threads::frame& f : frames)
    bound += 160 + escaped_bound(f.function.size() + f.file.size() + f.module.size());
  const std::string_view what(c.what), thread(c.thread_name);
  text.clear();
  text.append(what);
  text.append(thread);
  const std::size_t json_at = text.size();
  text.resize(json_at + bound);
  json_cursor j(text.data() + json_at);
  j.ch('[');
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const threads::frame& f = frames[i];
    if (i != 0) j.ch(',');
    char hex[24];
    j.lit("{\"addr\":");
    j.quoted(std::string_view(hex, fmt::format_to_n(hex, sizeof hex, "{:#x}", f.address).size));
    if (!f.function.empty()) {
      j.lit(",\"func\":");
      j.quoted(f.function);
    }
    if (!f.file.empty()) {
      j.lit(",\"file\":");
      j.quoted(f.file);
      j.lit(",\"line\":");
      j.integer(f.line);
    }
    if (f.inlined) j.lit(",\"inlined\":true");
    if (!f.module.empty()) {
      j.lit(",\"module\":");
      j.quoted(f.module);
    }
    if (f.file.empty()) {  // from the function's start, or from the module's when no symbol covers it
      j.lit(",\"offset\":");
      j.quoted(std::string_view(hex, fmt::format_to_n(hex, sizeof hex, "{:#x}", f.offset).size));
    }
    j.ch('}');
  }
  j.ch(']');
  text.resize(static_cast<std::size_t>(j.end() - text.data()));
  const std::string_view all(text.data(), text.size());
  fields.clear();
  field_value v;
  v.s = all.substr(0, what.size());
  fields.push_back({"crash", v});
  v.s = all.substr(what.size(), thread.size());
  fields.push_back({"thread", v});
  v.type = field_value::kind::json;
  v.s = all.substr(json_at);
  fields.push_back({"frames", v});
  return true;
}

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
