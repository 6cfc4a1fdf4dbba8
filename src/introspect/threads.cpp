// gidlog::threads: the thread list with states and stacks, the profiles, and thread-leak checks.
#include <gidlog/introspect/threads.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include <gidlog/runtime/task_registry.h>

#include "introspect/proc_task.h"
#include "introspect/stack_capture.h"
#include "introspect/symbolizer.h"
#include "core/thread_origin.h"

namespace gidlog {
inline namespace v0 {

namespace {

std::string hex(std::uintptr_t v) { return fmt::format("{:#x}", v); }

// What gidlog knows about each thread that runs one of its tasks (a limiter's job thread, a
// pool worker in a job): the task and who created it where.
std::map<std::uint32_t, std::string> task_origins() {
  std::map<std::uint32_t, std::string> out;
  for (const tasks::task_info& t : tasks::list()) {
    if (t.executor_gid == 0 || t.state != task_state::running) continue;
    std::string& s = out[t.executor_gid];
    if (!s.empty()) s += "; ";
    s += "running task " + std::to_string(t.id) + " of " + t.owner + ", created by gid-" +
         std::to_string(t.creator_gid) + " at " + t.file + ":" + std::to_string(t.line) + " in " + t.function;
  }
  return out;
}

// The threads among `tids` that still exist, with state, stack and origin.
std::vector<threads::thread_info> inspect(const std::vector<std::uint32_t>& tids, std::chrono::milliseconds wait) {
  std::vector<threads::thread_info> out;
  out.reserve(tids.size());
  const std::uint64_t now_ticks = detail::boot_ticks_now();
  // States first: a stack request makes the thread run for a moment.
  for (std::uint32_t tid : tids) {
    detail::task_stat st;
    if (!detail::read_task_stat(tid, st)) continue;
    threads::thread_info t;
    t.gid = tid;
    t.name = std::move(st.name);
    t.wait_channel = detail::read_wait_channel(tid);
    t.state = detail::state_word(st.state, detail::read_syscall(tid), t.wait_channel);
    t.cpu_time = detail::ticks_to_ns(st.cpu_ticks);
    t.age = detail::ticks_to_ns(now_ticks > st.start_ticks ? now_ticks - st.start_ticks : 0);
    out.push_back(std::move(t));
  }
  std::vector<std::uint32_t> alive;
  for (const threads::thread_info& t : out) alive.push_back(t.gid);
  const std::vector<detail::captured_stack> stacks = detail::capture_stacks(alive, wait);
  const std::map<std::uint32_t, std::string> by_task = task_origins();
  std::vector<threads::thread_info> kept;
  kept.reserve(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (stacks[i].gone) continue;
    threads::thread_info& t = out[i];
    t.stack = detail::symbolize(stacks[i].frames);
    t.no_stack = stacks[i].no_stack;
    t.origin = detail::thread_origin_text(t.gid);
    if (const auto it = by_task.find(t.gid); it != by_task.end()) t.origin += (t.origin.empty() ? "" : "; ") + it->second;
    kept.push_back(std::move(t));
  }
  return kept;
}

// "file:line" when known, else "module +0xoffset".
std::string where(const threads::frame& f) {
  if (!f.file.empty()) return fmt::format("{}:{}", f.file, f.line);
  return fmt::format("{} +{:#x}", f.module.empty() ? "?" : f.module, f.offset);
}

std::string describe_one(const threads::thread_info& t) {
  std::string s = fmt::format("thread {} \"{}\" [{}, {}, cpu {}", t.gid, t.name, t.state, detail::format_duration(t.age),
                              detail::format_duration(t.cpu_time));
  if (!t.wait_channel.empty() && t.state != "running") fmt::format_to(std::back_inserter(s), ", in {}", t.wait_channel);
  s += "]:\n";
  if (!t.no_stack.empty()) fmt::format_to(std::back_inserter(s), "\t(no stack: {})\n", t.no_stack);
  for (const threads::frame& f : t.stack) {
    fmt::format_to(std::back_inserter(s), "{}\n\t{}", f.function.empty() ? hex(f.address) : f.function, where(f));
    if (!f.file.empty() && !f.function.empty()) fmt::format_to(std::back_inserter(s), " +{:#x}", f.offset);
    s += '\n';
  }
  if (!t.origin.empty()) fmt::format_to(std::back_inserter(s), "{}\n", t.origin);
  s.pop_back();
  return s;
}

std::string profile_groups(const std::vector<threads::thread_info>& all) {
  struct group {
    const threads::thread_info* first = nullptr;
    std::vector<const threads::thread_info*> members;
  };
  // Identical stacks in the same state form a group; the key is the state, the reason for a
  // missing stack, and the addresses.
  std::map<std::pair<std::string, std::vector<std::uintptr_t>>, group> groups;
  for (const threads::thread_info& t : all) {
    std::vector<std::uintptr_t> pcs;
    for (const threads::frame& f : t.stack) {
      if (!f.inlined) pcs.push_back(f.address);
    }
    group& g = groups[{t.state + "\n" + t.no_stack, std::move(pcs)}];
    if (g.first == nullptr) g.first = &t;
    g.members.push_back(&t);
  }
  std::vector<const group*> sorted;
  for (const auto& [key, g] : groups) sorted.push_back(&g);
  std::stable_sort(sorted.begin(), sorted.end(), [](const group* a, const group* b) {
    return a->members.size() != b->members.size() ? a->members.size() > b->members.size() : a->first->gid < b->first->gid;
  });
  std::string out = fmt::format("thread profile: total {}\n", all.size());
  auto to = std::back_inserter(out);
  for (const group* g : sorted) {
    const threads::thread_info& t = *g->first;
    fmt::format_to(to, "{} @", g->members.size());
    for (const threads::frame& f : t.stack) {
      if (!f.inlined) fmt::format_to(to, " {:#x}", f.address);
    }
    fmt::format_to(to, "\n#\t[{}]", t.state);
    for (std::size_t i = 0; i < g->members.size(); ++i) {
      fmt::format_to(to, "{}gid-{} \"{}\"", i == 0 ? " " : ", ", g->members[i]->gid, g->members[i]->name);
    }
    out += '\n';
    if (!t.no_stack.empty()) fmt::format_to(to, "#\t(no stack: {})\n", t.no_stack);
    for (const threads::frame& f : t.stack) {
      fmt::format_to(to, "#\t{:#x}\t", f.address);
      if (f.function.empty()) out += '?';
      else fmt::format_to(to, "{}+{:#x}", f.function, f.offset);
      if (f.file.empty()) fmt::format_to(to, "\t{}\n", f.module.empty() ? "?" : f.module);
      else fmt::format_to(to, "\t{}:{}\n", f.file, f.line);
    }
    out += '\n';
  }
  return out;
}

bool ignored(const std::string& name, const std::vector<std::string>& ignore) {
  return std::any_of(ignore.begin(), ignore.end(),
                     [&name](const std::string& prefix) { return name.compare(0, prefix.size(), prefix) == 0; });
}

}  // namespace

namespace threads {

std::size_t count() noexcept { return detail::task_count(); }

std::vector<thread_info> list(std::chrono::milliseconds wait) { return inspect(detail::task_ids(), wait); }

std::string profile(int debug, std::chrono::milliseconds wait) {
  const std::vector<thread_info> all = list(wait);
  if (debug <= 1) return profile_groups(all);
  std::string out;
  for (const thread_info& t : all) out += describe_one(t) + "\n\n";
  return out;
}

std::string describe(const std::vector<std::uint32_t>& gids, std::chrono::milliseconds wait) {
  std::string out;
  for (const thread_info& t : inspect(gids, wait)) {
    if (!out.empty()) out += "\n\n";
    out += describe_one(t);
  }
  return out;
}

int stack_signal() noexcept { return detail::stack_request_signal(); }

}  // namespace threads

thread_snapshot thread_snapshot::take() {
  thread_snapshot s;
  for (std::uint32_t tid : detail::task_ids()) {
    detail::task_stat st;
    if (detail::read_task_stat(tid, st)) s.threads_.emplace_back(tid, st.start_ticks);
  }
  std::sort(s.threads_.begin(), s.threads_.end());
  return s;
}

std::vector<std::uint32_t> thread_snapshot::gids() const {
  std::vector<std::uint32_t> out;
  for (const auto& [tid, start] : threads_) out.push_back(tid);
  return out;
}

bool thread_snapshot::contains(std::uint32_t gid, std::uint64_t start_ticks) const noexcept {
  return std::binary_search(threads_.begin(), threads_.end(), std::make_pair(gid, start_ticks));
}

std::string find_thread_leaks(const thread_snapshot& snap, std::chrono::milliseconds timeout,
                              const std::vector<std::string>& ignore) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(10);
  for (;;) {
    std::vector<std::uint32_t> extra;
    for (std::uint32_t tid : detail::task_ids()) {
      detail::task_stat st;
      if (detail::read_task_stat(tid, st) && !snap.contains(tid, st.start_ticks) && !ignored(st.name, ignore))
        extra.push_back(tid);
    }
    if (extra.empty()) return {};
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      const std::string entries = threads::describe(extra);
      return entries.empty() ? std::string() : "found unexpected threads:\n" + entries + "\n";
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace v0
}  // namespace gidlog
