// Matching the runtime's fixed message shapes by hand: a regex per record would cost more than the
// whole text parse (the tool must read a million lines a second).
#include "hops.h"

namespace gidlog_trace {

namespace {

struct cursor {
  std::string_view s;
  std::size_t p = 0;

  bool lit(std::string_view t) noexcept {
    if (s.substr(p, t.size()) != t) return false;
    p += t.size();
    return true;
  }
  bool num(std::uint64_t& v) noexcept {
    const std::size_t start = p;
    v = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9' && p - start < 19) v = v * 10 + static_cast<std::uint64_t>(s[p++] - '0');
    return p > start;
  }
  bool gid(std::uint32_t& g) noexcept {
    std::uint64_t v;
    if (!lit("gid-") || !num(v)) return false;
    g = static_cast<std::uint32_t>(v);
    return true;
  }
};

}  // namespace

hop read_hop(const record& r) noexcept {
  hop h;
  const std::string_view m = r.msg;
  const bool pool = m.starts_with("pool \"");
  const bool lim = !pool && m.starts_with("limiter \"");
  if (!pool && !lim) return h;
  if (r.lvl != level::trace && r.lvl != level::warn && r.lvl != level::debug) return h;
  const std::size_t name_at = pool ? 6 : 9;
  const std::size_t close = m.find("\": ", name_at);
  if (close == std::string_view::npos) return h;
  h.limiter = lim;
  h.owner = m.substr(0, close + 1);
  h.name = m.substr(name_at, close - name_at);
  cursor c{m, close + 3};
  std::uint64_t v = 0;
  if (r.lvl == level::debug) {
    if (c.lit("worker ") && c.num(v) && c.lit(" started on ") && c.gid(h.executor)) {
      h.worker = static_cast<std::uint32_t>(v);
      h.kind = hop_kind::worker_start;
      return h;
    }
    c.p = close + 3;
    if (lim && c.lit("job ") && c.num(h.job) && c.lit(" thread ") && c.gid(h.executor) && c.lit(" started")) {
      h.kind = hop_kind::thread_start;
      return h;
    }
    // journald has one priority (7) for DEBUG and TRACE: read the TRACE hops below too.
    c.p = close + 3;
    h.job = 0;
  }
  if (r.lvl == level::warn) {
    if (c.lit("slow job ") && c.num(h.job) && c.lit(" ran ") && c.num(v) && c.lit(" ms on ") && c.gid(h.executor)) {
      h.run_us = static_cast<std::int64_t>(v) * 1000;
      h.kind = hop_kind::slow;
    } else if (c.lit("job ") && c.num(h.job) && c.lit(" from ") && c.gid(h.submitter) &&
               (c.lit(" not started: ") || c.lit(" rejected: "))) {
      h.kind = hop_kind::reject;
    }
    return h;
  }
  if (!c.lit("job ") || !c.num(h.job)) return h;
  if (c.lit(" submitted by ")) {
    if (c.gid(h.submitter) && c.lit(" at ")) h.kind = hop_kind::submit;
  } else if (c.lit(" started on ")) {
    if (c.gid(h.executor) && c.lit(", submitted by ") && c.gid(h.submitter) &&
        (c.lit(", queue wait ") || c.lit(", waited ")) && c.num(v) && c.lit(" us")) {
      h.wait_us = static_cast<std::int64_t>(v);
      h.kind = hop_kind::start;
    }
  } else if (c.lit(" finished on ")) {
    if (c.gid(h.executor) && c.lit(" in ") && c.num(v) && c.lit(" us (")) {
      h.run_us = static_cast<std::int64_t>(v);
      h.ok = c.lit("ok)");
      if (h.ok || c.lit("threw)")) {
        if (c.lit(", submitted by ") && c.gid(h.submitter)) h.kind = hop_kind::finish;
      }
    }
  }
  return h;
}

}  // namespace gidlog_trace
