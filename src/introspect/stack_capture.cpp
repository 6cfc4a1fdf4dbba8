// capture_stacks: the signal handler, the slots and the bounded wait.
#include "introspect/stack_capture.h"

#include <execinfo.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>

#include <gidlog/gid.h>

#include "introspect/proc_task.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

constexpr int max_frames = 64;
// The handler's own frames sit above the interrupted one: the handler, the kernel's signal
// trampoline, and under ThreadSanitizer a few of its own.
constexpr int extra_frames = 16;

// A slot's state word: generation << 2 | phase.
enum phase : std::uint64_t { idle = 0, armed = 1, writing = 2, done = 3 };
constexpr std::uint64_t word(std::uint64_t gen, phase p) noexcept { return gen << 2 | p; }

struct alignas(64) stack_slot {
  std::atomic<std::uint64_t> state{idle};
  std::uintptr_t pc = 0;
  int depth = 0;
  void* frames[max_frames + extra_frames];
};

// Slots in chunks that are allocated when a capture needs them and never freed: a handler may
// run long after its capture gave up. The signal value carries the slot index in its low 16 bits.
constexpr std::uint32_t chunk_slots = 256;
constexpr std::uint32_t max_chunks = 256;  // 65536 threads
constexpr std::uint32_t index_bits = 16;
std::atomic<stack_slot*> g_chunks[max_chunks];

std::atomic<std::uint32_t> g_answers{0};  // bumped by every answer; the futex the capture waits on
std::atomic<int> g_signal{0};
std::mutex g_capture_mutex;               // one capture at a time
std::uint64_t g_generation = 0;           // under g_capture_mutex

std::uintptr_t interrupted_pc(void* context) noexcept {
  const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.pc);
#else
  (void)uc;
  return 0;
#endif
}

// Runs on the asked thread. No allocation, no lock: backtrace() was made to load its unwinder
// before the first request was sent, and a futex wake is a system call.
void on_stack_request(int, siginfo_t* si, void* context) {
  const int saved_errno = errno;
  const auto value = reinterpret_cast<std::uintptr_t>(si->si_value.sival_ptr);
  const std::uint32_t index = value & ((1U << index_bits) - 1);
  const std::uint64_t gen = value >> index_bits;
  stack_slot* chunk = si->si_code == SI_QUEUE ? g_chunks[index / chunk_slots].load(std::memory_order_acquire) : nullptr;
  if (chunk != nullptr) {
    stack_slot& s = chunk[index % chunk_slots];
    std::uint64_t expected = word(gen, armed);
    if (s.state.compare_exchange_strong(expected, word(gen, writing), std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      s.pc = interrupted_pc(context);
      s.depth = ::backtrace(s.frames, max_frames + extra_frames);
      s.state.store(word(gen, done), std::memory_order_release);
      g_answers.fetch_add(1, std::memory_order_release);
      ::syscall(SYS_futex, &g_answers, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }
  errno = saved_errno;
}

// The first real-time signal from SIGRTMIN+4 up with no handler: below it are the ones
// applications and libraries pick first.
int install_handler() {
  // backtrace() loads libgcc's unwinder on its first call (dlopen, malloc): do that here.
  void* warm[2];
  (void)::backtrace(warm, 2);
  for (int sig = SIGRTMIN + 4; sig <= SIGRTMAX; ++sig) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_sigaction = on_stack_request;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(sig, &sa, nullptr) == 0) return sig;
  }
  return 0;
}

stack_slot& slot_at(std::uint32_t index) {
  std::atomic<stack_slot*>& chunk = g_chunks[index / chunk_slots];
  stack_slot* c = chunk.load(std::memory_order_relaxed);
  if (c == nullptr) {
    c = new stack_slot[chunk_slots];
    chunk.store(c, std::memory_order_release);
  }
  return c[index % chunk_slots];
}

struct request {
  std::uint32_t index = 0;
  bool sent = false;
};

// Arms a free slot for `gen`, starting the search at `next`. A slot still being written by a
// late handler of an earlier capture is skipped.
bool arm_slot(std::uint32_t& next, std::uint64_t gen, std::uint32_t& index) {
  for (; next < chunk_slots * max_chunks; ++next) {
    stack_slot& s = slot_at(next);
    std::uint64_t cur = s.state.load(std::memory_order_relaxed);
    if ((cur & 3) == writing) continue;
    if (s.state.compare_exchange_strong(cur, word(gen, armed), std::memory_order_relaxed)) {
      index = next++;
      return true;
    }
  }
  return false;
}

bool send_request(std::uint32_t tid, int sig, std::uintptr_t value, std::string& why) {
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = ::getpid();
  info.si_uid = ::getuid();
  info.si_value.sival_ptr = reinterpret_cast<void*>(value);
  if (::syscall(SYS_rt_tgsigqueueinfo, ::getpid(), static_cast<pid_t>(tid), sig, &info) == 0) return true;
  why = errno == ESRCH ? "" : errno == EAGAIN ? "the signal queue is full" : "the signal could not be sent";
  return false;
}

bool answered(const request& r, std::uint64_t gen) {
  return !r.sent || slot_at(r.index).state.load(std::memory_order_acquire) == word(gen, done);
}

// Waits until every sent request is answered, or every thread still asked has exited, or the
// deadline passes. Waits in slices of at most 20 ms to notice exits.
void wait_for_answers(const std::vector<request>& reqs, const std::vector<std::uint32_t>& tids, std::uint64_t gen,
                      std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const std::uint32_t seen = g_answers.load(std::memory_order_acquire);
    bool all = true;
    for (const request& r : reqs) all = all && answered(r, gen);
    if (all) return;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    const auto slice = std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(20));
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(slice).count();
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    if (::syscall(SYS_futex, &g_answers, FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0) != 0 && errno == ETIMEDOUT) {
      bool any_alive = false;
      for (std::size_t i = 0; i < reqs.size() && !any_alive; ++i) any_alive = !answered(reqs[i], gen) && task_alive(tids[i]);
      if (!any_alive) return;
    }
  }
}

// The thread's own frames: from the interrupted program counter on (when the unwinder went
// through the signal frame, it is there), else everything below the handler.
void take_frames(const stack_slot& s, captured_stack& out) {
  int first = 1;
  for (int i = 0; i < s.depth; ++i) {
    if (reinterpret_cast<std::uintptr_t>(s.frames[i]) == s.pc) {
      first = i;
      break;
    }
  }
  for (int i = first; i < s.depth && out.frames.size() < static_cast<std::size_t>(max_frames); ++i) {
    out.frames.push_back(reinterpret_cast<std::uintptr_t>(s.frames[i]));
  }
}

// Takes the answer out of the slot and frees it; a slot whose handler is still writing stays
// with it (the handler marks it done and a later capture reuses it).
void collect(const request& r, std::uint64_t gen, captured_stack& out) {
  stack_slot& s = slot_at(r.index);
  std::uint64_t cur = word(gen, armed);
  if (s.state.compare_exchange_strong(cur, word(gen, idle), std::memory_order_acq_rel)) {
    out.no_stack = "did not answer in time";
    return;
  }
  if (cur == word(gen, writing)) {
    // It began just now: backtrace() takes microseconds.
    for (int i = 0; i < 1000 && s.state.load(std::memory_order_acquire) == word(gen, writing); ++i)
      std::this_thread::yield();
    cur = s.state.load(std::memory_order_acquire);
    if (cur != word(gen, done)) {
      out.no_stack = "did not answer in time";
      return;
    }
  }
  take_frames(s, out);
  s.state.store(word(gen, idle), std::memory_order_release);
}

}  // namespace

int stack_request_signal() noexcept { return g_signal.load(std::memory_order_relaxed); }

std::vector<captured_stack> capture_stacks(const std::vector<std::uint32_t>& tids, std::chrono::milliseconds wait) {
  std::vector<captured_stack> out(tids.size());
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  int sig = g_signal.load(std::memory_order_relaxed);
  if (sig == 0) {
    sig = install_handler();
    g_signal.store(sig, std::memory_order_relaxed);
  }
  const std::uint64_t gen = ++g_generation & ((std::uint64_t{1} << (64 - index_bits - 2)) - 1);
  const std::uint64_t sig_bit = sig > 0 ? std::uint64_t{1} << (sig - 1) : 0;
  std::vector<request> reqs(tids.size());
  std::uint32_t next = 0;
  // Asks thread i; false when it has the signal blocked or pending.
  const auto ask = [&](std::size_t i) {
    captured_stack& c = out[i];
    signal_masks masks;
    if (!read_signal_masks(c.tid, masks)) {
      c.gone = true;
    } else if ((masks.blocked & sig_bit) != 0) {
      c.no_stack = "did not answer: it blocks signal " + std::to_string(sig);
      return false;
    } else if ((masks.pending & sig_bit) != 0) {
      c.no_stack = "did not answer: an earlier request is still pending";
      return false;
    } else if (!arm_slot(next, gen, reqs[i].index)) {
      c.no_stack = "too many threads";
    } else if (!(reqs[i].sent = send_request(c.tid, sig, std::uintptr_t{gen} << index_bits | reqs[i].index, c.no_stack))) {
      slot_at(reqs[i].index).state.store(word(gen, idle), std::memory_order_relaxed);
      c.gone = c.no_stack.empty();
    }
    return true;
  };
  std::vector<std::size_t> blocked;
  const std::uint32_t self = gid();
  for (std::size_t i = 0; i < tids.size(); ++i) {
    captured_stack& c = out[i];
    c.tid = tids[i];
    if (c.tid == self) {
      // The calling thread needs no signal (under ThreadSanitizer one to itself would wait for
      // its next interceptor call).
      void* frames[max_frames];
      const int depth = ::backtrace(frames, max_frames);
      for (int f = 0; f < depth; ++f) c.frames.push_back(reinterpret_cast<std::uintptr_t>(frames[f]));
    } else if (sig == 0) {
      c.no_stack = "no free real-time signal to ask with";
    } else if (!ask(i)) {
      blocked.push_back(i);
    }
  }
  // The kernel blocks the signal while its handler runs, until the handler has returned: a thread
  // still finishing the answer to the previous capture looks like one that blocks it, and one not
  // yet scheduled since then still has that request pending. Look again every 2 ms, for at most
  // 50 ms or a quarter of the wait (a thread that really blocks the signal costs that much): on a
  // loaded machine, with captures back to back, one look 2 ms later was not always enough.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  const auto retry_until = std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(wait / 4, std::chrono::milliseconds(50));
  while (!blocked.empty() && std::chrono::steady_clock::now() < retry_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::vector<std::size_t> still;
    for (std::size_t i : blocked) {
      out[i].no_stack.clear();
      if (!ask(i)) still.push_back(i);
    }
    blocked.swap(still);
  }
  wait_for_answers(reqs, tids, gen, deadline);
  for (std::size_t i = 0; i < tids.size(); ++i) {
    if (reqs[i].sent) collect(reqs[i], gen, out[i]);
  }
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
