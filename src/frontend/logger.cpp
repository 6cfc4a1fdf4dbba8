// The caller-side entry points: flush, levels, level parsing, LOG_FATAL, caller-side
// formatting failures. start/stop/fork/exit live in src/lifecycle/lifecycle.cpp.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include <gidlog/log.h>

#include "core/loggers.h"
#include "core/shared.h"

namespace gidlog {
inline namespace v0 {

std::optional<level> parse_level(std::string_view text) noexcept {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t.size() == 1 && t[0] >= '0' && t[0] <= '6') return static_cast<level>(t[0] - '0');
  if (t == "trace") return level::trace;
  if (t == "debug") return level::debug;
  if (t == "info") return level::info;
  if (t == "warn" || t == "warning") return level::warn;
  if (t == "error" || t == "err") return level::error;
  if (t == "fatal" || t == "critical") return level::fatal;
  if (t == "off" || t == "none") return level::off;
  return std::nullopt;
}

namespace detail {

void encode_format_failure(record& r, const record_meta* meta, const call_extras& x, std::string_view format,
                           bool runtime, const std::exception* e) noexcept {
  shared().format_errors.fetch_add(1, std::memory_order_relaxed);
  const char* what = e != nullptr ? e->what() : "unknown exception";
  const char* why = runtime && dynamic_cast<const fmt::format_error*>(e) != nullptr ? "format error" : "formatting threw";
  char buf[512];
  auto res = fmt::format_to_n(buf, sizeof buf - 4, "[gidlog: {}: {}; format \"{}\"]", why, what, format);
  std::size_t n = std::min(res.size, sizeof buf - 4);
  if (res.size > n) {  // say that the note itself was cut; the message is lost either way
    std::memcpy(buf + n, "...]", 4);
    n += 4;
  }
  encode_text(r, meta, {buf, n}, x);
}



}  // namespace detail

void flush() noexcept {
  using namespace detail;
  bool sync = false;
  record* slot = claim_slot(true, sync);
  if (slot == nullptr) {
    if (sync && tl_stashing != 0) {
      --tl_stashing;  // a signal handler inside this thread's LOG_* call: nothing of ours to wait for
    } else if (sync) {
      flush_sync();  // under tl_sync_call: a handler meanwhile stashes its record (it holds the lock)
      tl_sync_call = false;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      if (stash_pending()) write_stashed();
    }
    return;
  }
  flush_request req;
  slot->meta = &flush_meta;
  slot->gid = gidlog::gid();
  slot->context = nullptr;
  flush_request* ptr = &req;
  slot->size = sizeof ptr;
  std::memcpy(slot->payload.bytes, &ptr, sizeof ptr);
  commit(*slot, arch::cycles());
  while (req.done.load(std::memory_order_acquire) == 0) req.done.wait(0, std::memory_order_acquire);
}

namespace {
// dump_backtrace()'s record: meta_dump makes the backend write every ring instead of a line.
constinit detail::site_info dump_site{level::info, 0, "gidlog", "gidlog", "dump_backtrace", nullptr, ""};
}  // namespace

void dump_backtrace() noexcept {
  detail::emit_values_with<detail::meta_dump>(&detail::site_metas_v<&dump_site, detail::meta_dump, level::off>,
                                                detail::write_action, detail::call_extras{});
  flush();
}

void reopen() noexcept {
  detail::shared().reopen_requested.store(true, std::memory_order_release);
  detail::wake_backend();  // async-signal-safe: an atomic exchange and a futex wake
}

void set_level(level l) noexcept { detail::apply_global_level(l); }
level get_level() noexcept { return static_cast<level>(detail::g_level.load(std::memory_order_relaxed)); }

}  // namespace v0
}  // namespace gidlog
