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

struct origin_table {
  std::mutex mu;
  std::map<std::uint32_t, origin> by_gid;
};

origin_table& table() {
  static origin_table* t = new origin_table;  // never destroyed: threads may end after exit()
  return *t;
}

}  // namespace

std::string thread_origin_text(std::uint32_t tid) {
  origin_table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  const auto it = t.by_gid.find(tid);
  if (it == t.by_gid.end()) return {};
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
    origin_table& t = table();
    {
      std::lock_guard<std::mutex> lock(t.mu);
      t.by_gid[me] = std::move(o);
    }
    struct forget {
      origin_table& t;
      std::uint32_t me;
      ~forget() {
        std::lock_guard<std::mutex> lock(t.mu);
        t.by_gid.erase(me);
      }
    } on_exit{t, me};
    body();
  });
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
