#pragma once
// What /proc/self/task/TID says about a thread: its status fields and a one-word state. Plain
// open/read into stack buffers: a profile reads four small files per thread.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gidlog {
inline namespace v0 {
namespace detail {

struct task_stat {
  std::string name;              // comm
  char state = '?';              // R S D T t Z X I ...
  std::uint64_t cpu_ticks = 0;   // utime + stime, clock ticks
  std::uint64_t start_ticks = 0; // clock ticks after boot
};

// Gids of the process's threads, sorted.
std::vector<std::uint32_t> task_ids();
// Number of entries of /proc/self/task.
std::size_t task_count() noexcept;

// True while /proc/self/task/TID exists.
bool task_alive(std::uint32_t tid) noexcept;

// False when the thread is gone.
bool read_task_stat(std::uint32_t tid, task_stat& out);
// The kernel function the thread sleeps in, "" when running or unknown.
std::string read_wait_channel(std::uint32_t tid);

inline constexpr long syscall_none = -1;     // blocked, but not in a system call
inline constexpr long syscall_running = -2;  // on a CPU
inline constexpr long syscall_unknown = -3;  // unreadable (permissions, gone)
// The system call the thread is in (its number), or one of the values above.
long read_syscall(std::uint32_t tid);

// Signal masks of the thread (bit n-1 for signal n), from /proc/self/task/TID/status.
struct signal_masks {
  std::uint64_t blocked = 0;
  std::uint64_t pending = 0;  // pending for this thread alone
};
bool read_signal_masks(std::uint32_t tid, signal_masks& out);

// "running", "futex wait", "read", ... (see threads::thread_info::state).
std::string state_word(char state, long syscall_nr, std::string_view wait_channel);

std::chrono::nanoseconds ticks_to_ns(std::uint64_t ticks) noexcept;
// Clock ticks since boot now, on the clock /proc stat's start times use.
std::uint64_t boot_ticks_now() noexcept;

// "850 ms", "12 seconds", "3 minutes", "2 hours".
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
