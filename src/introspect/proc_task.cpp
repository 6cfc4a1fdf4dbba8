// /proc/self/task readers and the state words.
#include "introspect/proc_task.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

// Reads /proc/self/task/TID/<file> into buf (NUL-terminated); returns its length or -1.
long read_task_file(std::uint32_t tid, const char* file, char* buf, std::size_t size) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%u/%s", tid, file);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t got = 0;
  while (got + 1 < size) {
    const ssize_t n = ::read(fd, buf + got, size - 1 - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf[got] = '\0';
  return static_cast<long>(got);
}

long clock_ticks_per_second() noexcept {
  static const long hz = [] {
    const long v = ::sysconf(_SC_CLK_TCK);
    return v > 0 ? v : 100;
  }();
  return hz;
}

template <class F>
void for_each_task(F f) {
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d)) {
      const unsigned long tid = std::strtoul(e->d_name, nullptr, 10);
      if (tid != 0) f(static_cast<std::uint32_t>(tid));
    }
    ::closedir(d);
  }
}

struct syscall_word {
  long nr;
  const char* word;
};

// The blocking calls worth a word of their own; numbers from <sys/syscall.h> for this CPU.
constexpr syscall_word syscall_words[] = {
    {SYS_futex, "futex wait"},
#ifdef SYS_epoll_wait
    {SYS_epoll_wait, "epoll wait"},
#endif
    {SYS_epoll_pwait, "epoll wait"},
#ifdef SYS_epoll_pwait2
    {SYS_epoll_pwait2, "epoll wait"},
#endif
    {SYS_read, "read"},
    {SYS_readv, "read"},
    {SYS_pread64, "read"},
    {SYS_recvfrom, "read"},
    {SYS_recvmsg, "read"},
    {SYS_write, "write"},
    {SYS_writev, "write"},
    {SYS_sendto, "write"},
    {SYS_sendmsg, "write"},
#ifdef SYS_accept
    {SYS_accept, "accept"},
#endif
    {SYS_accept4, "accept"},
    {SYS_connect, "connect"},
#ifdef SYS_nanosleep
    {SYS_nanosleep, "nanosleep"},
#endif
    {SYS_clock_nanosleep, "nanosleep"},
#ifdef SYS_poll
    {SYS_poll, "poll"},
#endif
    {SYS_ppoll, "poll"},
#ifdef SYS_select
    {SYS_select, "select"},
#endif
    {SYS_pselect6, "select"},
    {SYS_wait4, "wait"},
    {SYS_waitid, "wait"},
};

// Kernel functions a thread sleeps in (/proc wchan) that name the wait unambiguously. They come
// first: wchan is the same on every CPU, and under an emulator (qemu-user) the system call numbers
// in /proc are the host's, not the program's. Waits they do not name (sockets mostly sleep in
// generic functions) go by the system call.
struct channel_word {
  const char* fragment;
  const char* word;
};
constexpr channel_word channel_words[] = {
    {"futex", "futex wait"}, {"epoll", "epoll wait"}, {"pipe_read", "read"}, {"pipe_write", "write"},
    {"accept", "accept"},    {"nanosleep", "nanosleep"}, {"do_sys_poll", "poll"}, {"do_select", "select"},
    {"do_wait", "wait"},
};

}  // namespace

std::vector<std::uint32_t> task_ids() {
  std::vector<std::uint32_t> out;
  for_each_task([&out](std::uint32_t tid) { out.push_back(tid); });
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t task_count() noexcept {
  std::size_t n = 0;
  for_each_task([&n](std::uint32_t) { ++n; });
  return n;
}

bool task_alive(std::uint32_t tid) noexcept {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/self/task/%u", tid);
  return ::access(path, F_OK) == 0;
}

bool read_task_stat(std::uint32_t tid, task_stat& out) {
  char buf[1024];
  if (read_task_file(tid, "stat", buf, sizeof buf) <= 0) return false;
  // "TID (comm) S ppid ...": comm may hold spaces and parentheses, so it ends at the last ')'.
  char* open = std::strchr(buf, '(');
  char* close = std::strrchr(buf, ')');
  if (open == nullptr || close == nullptr || close < open || close[1] == '\0') return false;
  out.name.assign(open + 1, close);
  // Fields from 3 on, counted as in proc(5): 3 state, 14 utime, 15 stime, 22 starttime.
  char* p = close + 2;
  out.state = *p;
  int field = 3;
  std::uint64_t utime = 0, stime = 0;
  while (*p != '\0' && field < 22) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return false;
    ++p;
    ++field;
    if (field == 14) utime = std::strtoull(p, nullptr, 10);
    if (field == 15) stime = std::strtoull(p, nullptr, 10);
    if (field == 22) out.start_ticks = std::strtoull(p, nullptr, 10);
  }
  out.cpu_ticks = utime + stime;
  return field == 22;
}

std::string read_wait_channel(std::uint32_t tid) {
  char buf[128];
  if (read_task_file(tid, "wchan", buf, sizeof buf) <= 0) return {};
  std::string s(buf);
  return s == "0" ? std::string() : s;
}

long read_syscall(std::uint32_t tid) {
  char buf[256];
  if (read_task_file(tid, "syscall", buf, sizeof buf) <= 0) return syscall_unknown;
  if (std::strncmp(buf, "running", 7) == 0) return syscall_running;
  char* end = nullptr;
  const long nr = std::strtol(buf, &end, 10);
  if (end == buf) return syscall_unknown;
  return nr < 0 ? syscall_none : nr;
}

bool read_signal_masks(std::uint32_t tid, signal_masks& out) {
  char buf[2048];
  if (read_task_file(tid, "status", buf, sizeof buf) <= 0) return false;
  const auto field = [&buf](const char* name, std::uint64_t& v) {
    const char* p = std::strstr(buf, name);
    if (p == nullptr) return false;
    v = std::strtoull(p + std::strlen(name), nullptr, 16);
    return true;
  };
  return field("\nSigPnd:", out.pending) && field("\nSigBlk:", out.blocked);
}

std::string state_word(char state, long syscall_nr, std::string_view wait_channel) {
  switch (state) {
    case 'R': return "running";
    case 'D': return "disk";
    case 'T':
    case 't': return "stopped";
    case 'Z':
    case 'X': return "zombie";
    default: break;
  }
  for (const channel_word& w : channel_words) {
    if (wait_channel.find(w.fragment) != std::string_view::npos) return w.word;
  }
  if (syscall_nr == syscall_running) return "running";
  for (const syscall_word& w : syscall_words) {
    if (w.nr == syscall_nr) return w.word;
  }
  return "sleeping";
}

std::chrono::nanoseconds ticks_to_ns(std::uint64_t ticks) noexcept {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ticks * (1'000'000'000ULL / static_cast<std::uint64_t>(clock_ticks_per_second()))));
}

std::uint64_t boot_ticks_now() noexcept {
  // Since Linux 5.3 start times count from boot including suspend (CLOCK_BOOTTIME).
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  const auto hz = static_cast<std::uint64_t>(clock_ticks_per_second());
  return static_cast<std::uint64_t>(ts.tv_sec) * hz + static_cast<std::uint64_t>(ts.tv_nsec) * hz / 1'000'000'000ULL;
}

std::string format_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  struct unit {
    nanoseconds size;
    const char* name;
  };
  static constexpr unit units[] = {{hours(1), "hour"}, {minutes(1), "minute"}, {seconds(1), "second"}};
  for (const unit& u : units) {
    if (d >= u.size) {
      const long long n = d / u.size;
      return std::to_string(n) + " " + u.name + (n == 1 ? "" : "s");
    }
  }
  return std::to_string(duration_cast<milliseconds>(d).count()) + " ms";
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
