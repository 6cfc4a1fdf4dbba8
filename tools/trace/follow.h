#pragma once
// Following a request: the records of one gid (or of the records carrying a context field), and
// transitively those of the jobs they handed to a worker_pool or limiter, each job's executor gid
// followed from its "started" to its "finished" hop record. One pass, in file order; what it keeps
// is the followed jobs in flight and, per gid it ever followed, its last job's interval.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hops.h"
#include "reader.h"
#include "record.h"

namespace gidlog_trace {

struct follow_query {
  std::optional<std::uint32_t> gid;  // follow this gid, or ...
  std::string key, value;            // ... the records whose context (or named field) key == value
};

class follower {
 public:
  explicit follower(follow_query q);

  // The record's hop depth when it belongs to the trail (0: the gid or field itself, 1: a job it
  // submitted, 2: a job that job submitted, ...), or -1. Must see every record, in order, even
  // those a --level or time filter will not print: the hop records carry the trail.
  int visit(const record& r);

  // The hop record of the last visit() (kind none for an ordinary record).
  const hop& last_hop() const noexcept { return hop_; }

  std::uint64_t jobs_followed() const noexcept { return jobs_; }

  // A limiter's job thread writes "job J thread gid-E started" before the job's "started" record
  // says whether it is on the trail; the follower holds that one record (one per gid) and hands it
  // over when the job's start puts it on the trail, to be printed just before the start record.
  struct held_record {
    std::int64_t time_ns = 0;
    level lvl = level::unknown;
    std::string raw;
  };
  std::optional<held_record> take_released() {
    std::optional<held_record> r = std::move(released_);
    released_.reset();
    return r;
  }

 private:
  struct job_key {
    std::uint64_t job;
    std::uint64_t owner;  // hash of `pool "name"`: ids are per process, logs may hold several
    bool operator==(const job_key&) const = default;
  };
  struct key_hash {
    std::size_t operator()(const job_key& k) const noexcept { return k.job * 0x9e3779b97f4a7c15ull ^ k.owner; }
  };
  struct activation {
    job_key key;
    int depth;
  };
  struct gid_state {
    std::vector<activation> stack;  // followed jobs running on this gid, innermost last
    std::int64_t last_in = 0, last_out = -1;
    int last_depth = 0;
    job_key last_job{0, 0};  // the followed job that ran last (its slow-job warning comes after)
  };

  bool field_matches(const record& r) const;
  int submitter_depth(std::uint32_t submitter, std::int64_t submitted_at, std::int64_t resolution_ns);

  follow_query q_;
  std::string quoted_value_;  // the value as %C writes it inside quotes
  std::unordered_map<std::uint32_t, gid_state> gids_;
  std::unordered_map<job_key, int, key_hash> pending_;  // submitted by the trail, not started yet
  struct held_for_job {
    job_key key;
    held_record rec;
  };
  std::unordered_map<std::uint32_t, held_for_job> held_;  // per gid
  std::optional<held_record> released_;
  hop hop_;
  std::uint64_t jobs_ = 0;
};

// One follower per process (scanner::process_of): gids, job ids and pool names are each process's
// own, so the logs of several processes are followed apart and only the query (a --field value
// such as a trace id) joins them. --gid follows that gid in each process.
class process_followers {
 public:
  explicit process_followers(follow_query q) : q_(std::move(q)) {}
  follower& of(const scanner& sc, const record& r);
  std::uint64_t jobs_followed() const noexcept;

 private:
  follow_query q_;
  std::unordered_map<std::string, follower> by_name_;
  std::vector<follower*> by_input_;  // records that do not name their process: by input
};

}  // namespace gidlog_trace
