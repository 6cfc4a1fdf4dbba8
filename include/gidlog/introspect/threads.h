#pragma once
// gidlog::threads: every thread of the process, its state and its stack -- the counterpart of Go's
// runtime.NumGoroutine() and of the pprof goroutine profile, for threads gidlog did not start too
// (an HTTP library's, a database driver's).
//
//   std::size_t n = gidlog::threads::count();            // like runtime.NumGoroutine()
//   std::puts(gidlog::threads::profile(1).c_str());       // like /debug/pprof/goroutine?debug=1
//   std::puts(gidlog::threads::profile(2).c_str());       // like /debug/pprof/goroutine?debug=2
//
// Where the facts come from: the thread list, names, states, CPU times and ages from
// /proc/self/task/TID/{stat,wchan,syscall,status}; each stack from the thread itself: it is sent a
// real-time signal whose handler runs backtrace() into a preallocated slot (no allocation, no lock
// in the handler). The calling thread waits a bounded time for the answers, then symbolizes them
// (elfutils libdw: demangled names, file:line where debug information exists; without libdw,
// dladdr() names only). A thread that does not answer in time -- it blocks every signal, or it is
// stopped -- is listed with its state and the reason it has no stack.
//
// The signal is the first real-time signal from SIGRTMIN+4 up that has no handler when the first
// profile is taken (threads::stack_signal() says which). A system call interrupted by it resumes
// where the kernel restarts it (read, write, accept, futex waits); the calls Linux never restarts
// (epoll_wait, poll, select, nanosleep; see signal(7)) return EINTR, as they do for any signal --
// code that retries on EINTR, as it must anyway, does not notice.
//
// Cost: nothing until the first call (no handler, no thread, no memory). A profile of 200
// threads takes a few milliseconds; bench/bm_threads measures it.
//
// Threading: every function may be called from any thread, from several at once (stack captures
// take turns), and from code that holds locks of its own; not from a signal handler.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gidlog {
inline namespace v0 {
namespace threads {

// One frame of a stack, symbolized.
struct frame {
  std::uintptr_t address = 0;  // the program counter (a return address for callers' frames)
  std::string function;        // demangled; "" when no symbol covers the address
  std::string file;            // source file, "" without debug information
  std::uint32_t line = 0;      // 0 without debug information
  std::string module;          // the executable or shared object holding the address
  std::uintptr_t offset = 0;   // address - function start, or - module start when function is ""
  bool inlined = false;        // inlined into the next frame (same address; file:line is its own)
};

// One thread, as list() saw it.
struct thread_info {
  std::uint32_t gid = 0;               // kernel thread id, as gidlog::gid() and the log prefix say
  std::string name;                    // comm: pthread_setname_np's name, at most 15 bytes
  // What it is doing, in one word or two: "running", "sleeping", "futex wait" (mutexes, condition
  // variables, joins), "epoll wait", "read", "write", "accept", "connect", "poll", "select",
  // "nanosleep", "wait" (waitpid), "disk" (uninterruptible, usually I/O), "stopped", "zombie".
  std::string state;
  std::string wait_channel;            // the kernel function it sleeps in (/proc wchan), or ""
  std::chrono::nanoseconds cpu_time{};  // user + system time it has used
  std::chrono::nanoseconds age{};       // since the thread started
  std::vector<frame> stack;            // innermost first; empty when it did not answer
  std::string no_stack;                // why the stack is empty, "" when it is not
  std::string origin;                  // for threads gidlog started or that run a gidlog task:
                                       // "created by gid-N at file:line ...", else ""
};

// Number of threads of the process (entries of /proc/self/task). No signal is sent.
std::size_t count() noexcept;

// Every thread of the process, ordered by gid, with its stack. Waits at most `wait` for the
// threads to answer (those that do not are listed with no_stack set).
std::vector<thread_info> list(std::chrono::milliseconds wait = std::chrono::milliseconds(200));

// Text profile of every thread.
//   debug <= 1: "thread profile: total N", then one group per identical (state, stack), largest
//               first, like pprof's goroutine?debug=1:
//                 3 @ 0x7f52c1a8e3f6 0x55d0b4a1c2de 0x55d0b4a1c9f0
//                 #	[futex wait] gid-4712 "replicas-go", gid-4713 "replicas-go", gid-4714 "replicas-go"
//                 #	0x7f52c1a8e3f6	__futex_abstimed_wait_common+0xf6	libc.so.6
//                 #	0x55d0b4a1c2de	channel<int>::send(int)+0x4e	/src/service.cpp:41
//   debug >= 2: every thread, by gid, like pprof's goroutine?debug=2:
//                 thread 4712 "replicas-go" [futex wait, 2 minutes, cpu 1 ms]:
//                 channel<int>::send(int)
//                 	/src/service.cpp:41 +0x4e
//                 ...
//                 running task 9 of limiter "replicas", created by gid-4711 at /src/service.cpp:73 in ...
// `wait`: how long the threads have to answer, as for list(); it returns as soon as all have.
std::string profile(int debug = 1, std::chrono::milliseconds wait = std::chrono::milliseconds(200));

// The profile(2) entries of the threads with these gids that still exist (no trailing blank line
// after the last). Used by find_thread_leaks().
std::string describe(const std::vector<std::uint32_t>& gids, std::chrono::milliseconds wait = std::chrono::milliseconds(200));

// The real-time signal that carries stack requests, or 0 before the first list()/profile().
int stack_signal() noexcept;

}  // namespace threads

// Thread-leak checks for tests, with goleak semantics, process-wide: take a snapshot, run the code
// under test, then poll until every thread started after the snapshot has exited, or fail with
// the debug=2 profile of those that remain.
//
//   auto snap = gidlog::thread_snapshot::take();
//   run_code_under_test();
//   std::string report = gidlog::find_thread_leaks(snap);   // polls up to 5 s
//   if (!report.empty()) std::fputs(report.c_str(), stderr);
//
// With Catch2, <gidlog/testing/catch2.h> has GIDLOG_CHECK_NO_THREAD_LEAKS(snap) and
// GIDLOG_REQUIRE_NO_THREAD_LEAKS(snap). A thread is identified by its gid and start time, so a
// gid the kernel reused for a new thread counts as new. Threads a test starts on purpose and
// keeps (a logger backend started after take(), a pool that outlives the check) and helper
// threads runtimes start lazily (ThreadSanitizer's, with the first pthread_create) count too:
// take the snapshot after them, or name them in `ignore`.
class thread_snapshot {
 public:
  // Records the threads alive now; they are never reported.
  static thread_snapshot take();

  // Gids of the threads alive at take(), sorted.
  std::vector<std::uint32_t> gids() const;
  // True when the thread `gid` with this start time (clock ticks since boot, /proc stat field 22)
  // existed at take().
  bool contains(std::uint32_t gid, std::uint64_t start_ticks) const noexcept;

 private:
  std::vector<std::pair<std::uint32_t, std::uint64_t>> threads_;  // (gid, start ticks), sorted
};

// Polls (every 10 ms, then up to every 50 ms) for at most `timeout` until no thread started after
// `snap` is alive, except threads whose name starts with one of `ignore`. Returns "" then, or at
// the timeout "found unexpected threads:\n" followed by the threads::profile(2) entry of each
// remaining thread (separated by blank lines). Returns at once when nothing leaked.
std::string find_thread_leaks(const thread_snapshot& snap, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                              const std::vector<std::string>& ignore = {});

}  // namespace v0
}  // namespace gidlog
