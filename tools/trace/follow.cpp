#include "follow.h"

#include <functional>
#include <string_view>

#include "text_parser.h"

namespace gidlog_trace {

follower::follower(follow_query q) : q_(std::move(q)), quoted_value_(logfmt_escaped(q_.value)) {}

bool follower::field_matches(const record& r) const {
  if (q_.key.empty()) return false;
  const std::string_view* v = r.find(q_.key);
  return v != nullptr && (*v == q_.value || *v == quoted_value_);
}

// The depth of a job submitted by `submitter` at `submitted_at`, or -1 when the submitter was not
// on the trail then. A limiter writes no record when go() is called, so its jobs are judged by the
// submitter's state when the job was admitted (start time minus the wait).
// Times are cut to the log's resolution (a millisecond with %e) and the wait to a microsecond: the
// interval check allows that much and no more.
int follower::submitter_depth(std::uint32_t submitter, std::int64_t submitted_at, std::int64_t resolution_ns) {
  const std::int64_t slack_ns = resolution_ns + 1000;
  if (q_.gid && submitter == *q_.gid) return 1;
  auto it = gids_.find(submitter);
  if (it == gids_.end()) return -1;
  const gid_state& g = it->second;
  if (!g.stack.empty()) return g.stack.back().depth + 1;
  if (g.last_out >= 0 && submitted_at >= g.last_in - slack_ns && submitted_at <= g.last_out + slack_ns)
    return g.last_depth + 1;
  return -1;
}

int follower::visit(const record& r) {
  hop_ = read_hop(r);
  gid_state* g = nullptr;
  if (auto it = gids_.find(r.gid); it != gids_.end()) g = &it->second;
  const bool active = g != nullptr && !g->stack.empty();
  const int depth = active ? g->stack.back().depth : 0;
  const bool on_trail = active || (q_.gid && r.gid == *q_.gid) || field_matches(r);

  switch (hop_.kind) {
    case hop_kind::submit:
      if (on_trail) pending_[{hop_.job, std::hash<std::string_view>{}(hop_.owner)}] = depth + 1;
      break;
    case hop_kind::start: {
      const job_key key{hop_.job, std::hash<std::string_view>{}(hop_.owner)};
      std::optional<held_for_job> held;  // taken on every start, so held_ stays small
      if (auto h = held_.find(r.gid); h != held_.end()) {
        held = std::move(h->second);
        held_.erase(h);
      }
      int d = -1;
      if (auto p = pending_.find(key); p != pending_.end()) {
        d = p->second;
        pending_.erase(p);
      } else {
        // A pool job always has its "submitted" record: not pending means not on the trail. A
        // limiter writes none, so its submitter is judged at the time the job was admitted.
        if (hop_.limiter) d = submitter_depth(hop_.submitter, r.time_ns - hop_.wait_us * 1000, r.resolution_ns);
        if (d < 0 && field_matches(r)) d = 1;  // submitted from outside the trail, same request
      }
      if (d < 0) break;
      if (held && held->key == key) released_ = std::move(held->rec);
      ++jobs_;
      gid_state& e = gids_[r.gid];
      if (e.stack.empty()) e.last_in = r.time_ns;
      e.stack.push_back({key, d});
      return d;
    }
    case hop_kind::finish: {
      if (!active) break;
      const job_key key{hop_.job, std::hash<std::string_view>{}(hop_.owner)};
      for (std::size_t i = g->stack.size(); i-- > 0;) {
        if (g->stack[i].key != key) continue;
        const int d = g->stack[i].depth;
        g->stack.resize(i);
        if (g->stack.empty()) {
          g->last_out = r.time_ns;
          g->last_depth = d;
          g->last_job = key;
        }
        return d;
      }
      break;
    }
    case hop_kind::thread_start:
      if (!on_trail) {
        held_[r.gid] = {{hop_.job, std::hash<std::string_view>{}(hop_.owner)}, {r.time_ns, r.lvl, std::string(r.raw)}};
        return -1;
      }
      break;
    case hop_kind::slow:
      // Written by the worker right after the job's "finished" record.
      if (!active && g != nullptr && g->last_out >= 0 &&
          g->last_job == job_key{hop_.job, std::hash<std::string_view>{}(hop_.owner)})
        return g->last_depth;
      break;
    default: break;
  }
  return on_trail ? depth : -1;
}

follower& process_followers::of(const scanner& sc, const record& r) {
  if (r.process.empty()) {
    const std::uint32_t input = sc.input_of(r);
    if (input >= by_input_.size()) by_input_.resize(input + 1, nullptr);
    if (by_input_[input] == nullptr) by_input_[input] = &by_name_.try_emplace(sc.process_of(r), q_).first->second;
    return *by_input_[input];
  }
  return by_name_.try_emplace(sc.process_of(r), q_).first->second;
}

std::uint64_t process_followers::jobs_followed() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [name, f] : by_name_) n += f.jobs_followed();
  return n;
}

}  // namespace gidlog_trace
