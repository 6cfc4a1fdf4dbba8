// The origin table: gid -> who started the thread, where, for what; filled by the threads
// start_named_thread() starts, as they start and end, and read by introspect. Any thread.
#include "core/thread_origin.h"

#include <pthread.h>

#include <map>
#include <mutex>
#include <utility>

#include <gidlog/gid.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

struct origin {
  std::uint32_t creator = 0;
  const char* file = "";
  std::uint32_t line = 0;
  const char* function = "";
  std::string what;
};

// Safe across fork(): no function-local static, and a lock held across it. A thread this table
// starts registers itself as it begins; a fork() soon after start() used to find the parent's new
// backend thread in the middle of the table's first-use initialisation (or holding its lock), and
// the child's own backend thread then waited for it forever. The lock is constant-initialised
// (nothing to wait for at first use) and taken by the fork handlers below, so the child always
// gets it unlocked.
constinit std::mutex g_mu;
std::map<std::uint32_t, origin>* g_by_gid = nullptr;  // under g_mu; never destroyed: threads may end after exit()

std::map<std::uint32_t, origin>& by_gid_locked() {
  if (g_by_gid == nullptr) g_by_gid = new std::map<std::uint32_t, origin>;
  return *g_by_gid;
}

void fork_prepare() { g_mu.lock(); }
void fork_release() { g_mu.unlock(); }  // in the parent, and in the child by the thread that forked
[[maybe_unused]] const bool g_fork_handlers = ::pthread_atfork(fork_prepare, fork_release, fork_release) == 0;

}  // namespace

std::string thread_origin_text(std::uint32_t tid) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_by_gid == nullptr) return {};
  const auto it = g_by_gid->find(tid);
  if (it == g_by_gid->end()) return {};
  const origin& o = it->second;
  return "created by gid-" + std::to_string(o.creator) + " at " + o.file + ":" + std::to_string(o.line) + " in " +
         o.function + " (" + o.what + ")";
}

std::thread start_named_thread(const char* name, const source_location& loc, std::string what, std::function<void()> body,
                               std::uint32_t creator) {
  origin o{creator != 0 ? creator : gid(), loc.file_name(), static_cast<std::uint32_t>(loc.line()), loc.function_name(),
           std::move(what)};
  return std::thread([name, o = std::move(o), body = std::move(body)]() mutable {
    ::pthread_setname_np(::pthread_self(), name);
    const std::uint32_t me = gid();
    {
      std::lock_guard<std::mutex> lock(g_mu);
      by_gid_locked()[me] = std::move(o);
    }
    struct forget {
      std::uint32_t me;
      ~forget() {
        std::lock_guard<std::mutex> lock(g_mu);
        g_by_gid->erase(me);
      }
    } on_exit{me};
    body();
  });
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
