// gidlog::gid()'s slow path: initialisation, the per-thread check, the syscall and procfs
// methods, the switch to the next method after a failed check, and the warn hook.
//
// Built into libgidlog and, alone, into gidlog_gid for the aarch64 cross build: no fmt, no
// moodycamel, nothing that allocates. Everything a thread can reach after the initialisation
// is async-signal-safe (syscall, readlink, write, atomics), because gid() runs in signal
// handlers.
#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <gidlog/detail/gid_table.h>
#include <gidlog/gid.h>

#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

namespace gidlog {
inline namespace v0 {
namespace detail {

constinit gid_fast_state gid_fast;
__thread std::int8_t gid_thread_checked __attribute__((tls_model("initial-exec"))) = 0;

namespace {

// ---------------------------------------------------------------------------------------------
// Small helpers that neither allocate nor lock (signal handlers reach them).

// A fixed-size text, truncated (never overflowing) when full.
// Constant-initialised (no constructor), so the globals below are ready before any dynamic
// initialiser runs, the priority-101 constructor included.
struct text {
  char buf[384]{};
  std::size_t len = 0;

  text& add(const char* s) noexcept {
    while (s != nullptr && *s != '\0' && len + 1 < sizeof buf) buf[len++] = *s++;
    buf[len] = '\0';
    return *this;
  }
  text& dec(unsigned long long v) noexcept {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0 && len + 1 < sizeof buf) buf[len++] = digits[--n];
    buf[len] = '\0';
    return *this;
  }
  text& sdec(long long v) noexcept {
    if (v < 0) add("-");
    return dec(v < 0 ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v));
  }
  text& hex(long long v) noexcept {
    if (v < 0) add("-");
    unsigned long long u = v < 0 ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    char digits[20];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[u % 16];
      u /= 16;
    } while (u != 0);
    add("0x");
    while (n > 0 && len + 1 < sizeof buf) buf[len++] = digits[--n];
    buf[len] = '\0';
    return *this;
  }
  text& version(gid_libc_version v) noexcept {
    if (v == gid_version_max) return add("(newest)");
    dec(v.major).add(".").dec(v.minor);
    if (v.patch != 0 && v.patch != 0xffff) add(".").dec(v.patch);
    return *this;
  }
  [[nodiscard]] bool empty() const noexcept { return len == 0; }
};

std::uint32_t syscall_tid() noexcept {
  long tid = ::syscall(SYS_gettid);
  return tid > 0 ? static_cast<std::uint32_t>(tid) : 0u;
}

// readlink("/proc/thread-self") is "PID/task/TID": the counterpart of Go's runtime.Stack parse.
std::uint32_t procfs_tid() noexcept {
  char link[64];
  ssize_t n = ::readlink("/proc/thread-self", link, sizeof link - 1);
  if (n <= 0) return 0;
  ssize_t start = n;
  while (start > 0 && link[start - 1] != '/') --start;
  if (start == n) return 0;
  std::uint32_t tid = 0;
  for (ssize_t i = start; i < n; ++i) {
    if (link[i] < '0' || link[i] > '9') return 0;
    tid = tid * 10 + static_cast<std::uint32_t>(link[i] - '0');
  }
  return tid;
}

// The TID to check the fast read against: the syscall, or procfs where seccomp forbids it.
std::uint32_t reference_tid() noexcept {
  std::uint32_t tid = syscall_tid();
  return tid != 0 ? tid : procfs_tid();
}

// Reads 4 bytes at `addr` without faulting if the address is unmapped: process_vm_readv on our
// own process returns EFAULT instead. Where the kernel or an emulator refuses the call (ENOSYS,
// EPERM under seccomp), the offset is trusted to lie inside the descriptor and read directly.
bool probe_u32(const char* addr, std::uint32_t& out) noexcept {
  iovec local{&out, sizeof out};
  iovec remote{const_cast<char*>(addr), sizeof out};
  ssize_t n = ::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(sizeof out)) return true;
  if (n < 0 && errno == EFAULT) return false;
  std::memcpy(&out, addr, sizeof out);
  return true;
}

// ---------------------------------------------------------------------------------------------
// The warn hook and the reason kept for it while none is set.

constinit std::atomic<gid_warn_fn> warn_hook{nullptr};
std::atomic_flag warn_lock = ATOMIC_FLAG_INIT;  // guards pending_reason; held for a copy only
constinit text pending_reason;

void lock_warn() noexcept {
  while (warn_lock.test_and_set(std::memory_order_acquire)) {
  }
}
void unlock_warn() noexcept { warn_lock.clear(std::memory_order_release); }

void report(const text& reason) noexcept {
  lock_warn();
  gid_warn_fn hook = warn_hook.load(std::memory_order_acquire);
  if (hook == nullptr) {
    if (!pending_reason.empty()) pending_reason.add("; ");
    pending_reason.add(reason.buf);
  }
  unlock_warn();
  if (hook != nullptr) {
    hook(reason.buf);
    return;
  }
  text line;
  line.add("gidlog: WARN: ").add(reason.buf).add("\n");
  ssize_t ignored = ::write(STDERR_FILENO, line.buf, line.len);
  static_cast<void>(ignored);
}

// ---------------------------------------------------------------------------------------------
// Process-wide state.

enum : std::uint8_t { init_none, init_busy, init_ready };
constinit std::atomic<std::uint8_t> init_state{init_none};
constinit std::atomic<gid_source> method{gid_source::syscall};
constinit std::atomic<std::ptrdiff_t> offset_from_self{0};
constinit text init_note;  // written only while init_state is busy, or by the winner of a method switch

using gettid_np_fn = pid_t (*)(pthread_t);
constinit gettid_np_fn gettid_np = nullptr;  // glibc's pthread_gettid_np, where it exists

constexpr const char* env_name = "GIDLOG_GID_METHOD";

const char* libc_name(gid_libc libc) noexcept { return libc == gid_libc::glibc ? "glibc" : "musl"; }

#if defined(__x86_64__)
constexpr const char* arch_column = "x86_64";
std::ptrdiff_t column(const gid_offset_entry& e) noexcept { return e.x86_64; }
#elif defined(__aarch64__)
constexpr const char* arch_column = "aarch64";
std::ptrdiff_t column(const gid_offset_entry& e) noexcept { return e.aarch64; }
#else
constexpr const char* arch_column = nullptr;  // no offsets known: syscall, quietly
std::ptrdiff_t column(const gid_offset_entry&) noexcept { return 0; }
#endif

// Switches the process from `from` to `to` unless another thread already switched; the winner
// closes the fast path first, then reports (the hook may call gid()).
void switch_method(gid_source from, gid_source to, text& reason) noexcept {
  if (!method.compare_exchange_strong(from, to, std::memory_order_acq_rel)) return;
  if (from == gid_source::fast) {
    gid_fast.tp_offset.store(0, std::memory_order_release);
    offset_from_self.store(0, std::memory_order_relaxed);
  }
  reason.add("; gid() now uses ").add(gid_source_name(to));
  init_note.len = 0;
  init_note.add(gid_source_name(to)).add(": ").add(reason.buf);
  report(reason);
}

gid_source first_working_fallback() noexcept {
  return syscall_tid() != 0 ? gid_source::syscall : gid_source::procfs;
}

// Looks the fast offset up and checks it on this thread. On success stores the offsets and
// returns true; otherwise explains why in `why`.
bool try_fast(std::span<const gid_offset_entry> table, const char* version_override, text& why,
              std::ptrdiff_t& found_tp_offset) noexcept {
  if (arch_column == nullptr) {
    why.add("no thread-descriptor offsets are known for this CPU");
    return false;
  }
#if defined(__GLIBC__)
  const gid_libc libc = gid_libc::glibc;
  const char* version_text = version_override != nullptr ? version_override : ::gnu_get_libc_version();
#else
  // Not glibc on Linux: musl, which has no version query; its rows are tried in turn.
  const gid_libc libc = gid_libc::musl;
  const char* version_text = nullptr;
  static_cast<void>(version_override);
#endif
  const gid_libc_version version = gid_parse_libc_version(version_text);
  const std::uint32_t ref = reference_tid();
  if (ref == 0) {
    why.add("neither syscall(SYS_gettid) nor /proc/thread-self works, so the fast read cannot be checked");
    return false;
  }
  const std::uint32_t np = gettid_np != nullptr ? static_cast<std::uint32_t>(gettid_np(::pthread_self())) : ref;

  const char* self = reinterpret_cast<const char*>(::pthread_self());
  const char* tp = static_cast<const char*>(arch::thread_pointer());
  why.add(libc_name(libc));
  if (version_text != nullptr) why.add(" ").add(version_text);
  why.add(" ").add(arch_column).add(": ");
  bool tried = false;
  for (const gid_offset_entry& row : table) {
    if (row.libc != libc) continue;
    if (libc == gid_libc::glibc && (version < row.first || row.last < version)) continue;
    const std::ptrdiff_t off = column(row);
    if (off == 0) continue;
    if (tried) why.add(", ");
    tried = true;
    why.add("TID at pthread_self()+").hex(off);
    if (!row.measured) why.add(" (past the measured versions ").version(row.first).add(")");
    std::uint32_t value = 0;
    if (off % 4 != 0 || !probe_u32(self + off, value)) {
      why.add(" is not readable");
      continue;
    }
    if (value != ref || np != ref) {
      why.add(" reads ").dec(value).add(" but gettid() is ").dec(ref);
      if (np != ref) why.add(" and pthread_gettid_np() ").dec(np);
      continue;
    }
    const std::ptrdiff_t tp_off = (self + off) - tp;
    if (tp_off == 0) {  // 0 means "off" in the hot path; no C library keeps the TID there
      why.add(" is the thread pointer itself");
      continue;
    }
    found_tp_offset = tp_off;
    offset_from_self.store(off, std::memory_order_relaxed);
    why.len = 0;
    why.add("fast: ").add(libc_name(libc));
    if (version_text != nullptr) why.add(" ").add(version_text);
    why.add(" ").add(arch_column).add(", TID at pthread_self()+").hex(off).add(" = thread pointer").add(tp_off < 0 ? "" : "+").hex(tp_off);
    if (!row.measured) why.add(" (version past the measured range; verified)");
    return true;
  }
  if (!tried) {
    why.add("no row of the gid offset table covers ").add(libc_name(libc)).add(" ");
    why.add(version_text != nullptr ? version_text : "(unknown version)");
  }
  return false;
}

// The whole initialisation; the caller holds init_state == init_busy.
void initialise(std::span<const gid_offset_entry> table, const char* version_override) noexcept {
  gid_fast.tp_offset.store(0, std::memory_order_relaxed);
  offset_from_self.store(0, std::memory_order_relaxed);
  init_note.len = 0;
  init_note.buf[0] = '\0';
  text warn;

  enum class wanted { automatic, fast, syscall, procfs } want = wanted::automatic;
  if (const char* env = std::getenv(env_name); env != nullptr && *env != '\0') {
    if (std::strcmp(env, "auto") == 0) want = wanted::automatic;
    else if (std::strcmp(env, "fast") == 0) want = wanted::fast;
    else if (std::strcmp(env, "syscall") == 0) want = wanted::syscall;
    else if (std::strcmp(env, "procfs") == 0) want = wanted::procfs;
    else warn.add(env_name).add("=").add(env).add(" is not one of auto|fast|syscall|procfs; using auto");
  }

  gettid_np = reinterpret_cast<gettid_np_fn>(::dlsym(RTLD_DEFAULT, "pthread_gettid_np"));

  gid_source chosen = gid_source::syscall;
  std::ptrdiff_t tp_offset = 0;
  if (want == wanted::syscall) {
    chosen = first_working_fallback();
    init_note.add(gid_source_name(chosen)).add(": forced by ").add(env_name);
    if (chosen != gid_source::syscall) {
      if (!warn.empty()) warn.add("; ");
      warn.add(env_name).add("=syscall, but syscall(SYS_gettid) fails here; gid() uses procfs");
    }
  } else if (want == wanted::procfs) {
    chosen = procfs_tid() != 0 ? gid_source::procfs : gid_source::syscall;
    init_note.add(gid_source_name(chosen)).add(": forced by ").add(env_name);
    if (chosen != gid_source::procfs) {
      if (!warn.empty()) warn.add("; ");
      warn.add(env_name).add("=procfs, but /proc/thread-self is unreadable; gid() uses syscall");
    }
  } else {
    text why;
    if (try_fast(table, version_override, why, tp_offset)) {
      chosen = gid_source::fast;
      init_note.add(why.buf);
    } else {
      chosen = first_working_fallback();
      init_note.add(gid_source_name(chosen)).add(": ").add(why.buf);
      if (arch_column != nullptr || want == wanted::fast) {
        if (!warn.empty()) warn.add("; ");
        warn.add("gid fast path unavailable: ").add(why.buf).add("; gid() uses ").add(gid_source_name(chosen));
      }
    }
  }

  method.store(chosen, std::memory_order_relaxed);
  if (chosen == gid_source::fast) {
    gid_thread_checked = -1;  // checked just now, on this thread
    gid_fast.tp_offset.store(tp_offset, std::memory_order_relaxed);
  }
  init_state.store(init_ready, std::memory_order_release);
  if (!warn.empty()) report(warn);
}

// True once initialised. Initialises on the first call; false while another thread (or this
// one, interrupted by a signal) is initialising: the caller then answers from the syscall.
bool ensure_initialised() noexcept {
  std::uint8_t state = init_state.load(std::memory_order_acquire);
  if (state == init_ready) return true;
  if (state == init_none && init_state.compare_exchange_strong(state, init_busy, std::memory_order_acq_rel)) {
    initialise(gid_builtin_offsets(), nullptr);
    return true;
  }
  return false;
}

// The library constructor: initialise before main() and before any thread exists, so the slow
// path that signal handlers and new threads reach never has to. Priority 101 runs it before
// ordinary static constructors (which may log); an earlier caller initialises lazily instead.
[[gnu::constructor(101)]] void initialise_at_load() noexcept { ensure_initialised(); }

// This thread's first call while the method is fast: check the fast read once.
std::uint32_t check_this_thread() noexcept {
  const std::uint32_t ref = reference_tid();
  const std::ptrdiff_t off = gid_fast.tp_offset.load(std::memory_order_acquire);
  if (off == 0) return ref;  // another thread switched the process away from fast meanwhile
  const std::uint32_t fast = gid_read_at(off);
  if (ref == 0) return fast;  // nothing to check against on this thread; it verified at start
  if (fast == ref) {
    gid_thread_checked = -1;
    return ref;
  }
  text why;
  why.add("gid fast path failed its check on thread ").dec(ref).add(": TID at pthread_self()+");
  why.hex(offset_from_self.load(std::memory_order_relaxed)).add(" reads ").dec(fast);
  switch_method(gid_source::fast, first_working_fallback(), why);
  return ref;
}

}  // namespace

std::uint32_t gid_slow() noexcept {
  if (!ensure_initialised()) return reference_tid();
  switch (method.load(std::memory_order_acquire)) {
    case gid_source::fast:
      return check_this_thread();
    case gid_source::syscall: {
      if (std::uint32_t tid = syscall_tid(); tid != 0) return tid;
      const int err = errno;
      text why;
      why.add("syscall(SYS_gettid) failed with errno ").sdec(err);
      switch_method(gid_source::syscall, gid_source::procfs, why);
      return procfs_tid();
    }
    case gid_source::procfs:
      if (std::uint32_t tid = procfs_tid(); tid != 0) return tid;
      return syscall_tid();  // /proc went away (unmounted, chroot): still answer, don't switch
  }
  return reference_tid();
}

void set_gid_warn_hook(gid_warn_fn hook) noexcept {
  text deliver;
  lock_warn();
  warn_hook.store(hook, std::memory_order_release);
  if (hook != nullptr && !pending_reason.empty()) {
    deliver.add(pending_reason.buf);
    pending_reason.len = 0;
    pending_reason.buf[0] = '\0';
  }
  unlock_warn();
  if (!deliver.empty()) hook(deliver.buf);
}

void gid_reinit_for_test(std::span<const gid_offset_entry> table, const char* libc_version) noexcept {
  for (;;) {
    std::uint8_t state = init_state.load(std::memory_order_acquire);
    if (state != init_busy && init_state.compare_exchange_weak(state, init_busy, std::memory_order_acq_rel)) break;
  }
  initialise(table, libc_version);
}

void gid_reinit_for_test() noexcept { gid_reinit_for_test(gid_builtin_offsets(), nullptr); }

const char* gid_init_note() noexcept {
  ensure_initialised();
  return init_note.buf;
}

std::ptrdiff_t gid_offset_from_self() noexcept {
  ensure_initialised();
  return offset_from_self.load(std::memory_order_relaxed);
}

}  // namespace detail

gid_source gid_method() noexcept {
  detail::ensure_initialised();
  return detail::method.load(std::memory_order_acquire);
}

const char* gid_method_name() noexcept { return gid_source_name(gid_method()); }

const char* gid_source_name(gid_source source) noexcept {
  switch (source) {
    case gid_source::fast: return "fast";
    case gid_source::syscall: return "syscall";
    case gid_source::procfs: return "procfs";
  }
  return "?";
}

}  // namespace v0
}  // namespace gidlog
