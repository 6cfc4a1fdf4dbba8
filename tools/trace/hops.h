#pragma once
// The runtime's TRACE hop records (src/runtime/pool_workers.cpp, pool_submit.cpp, limiter.cpp),
// read from the message text, which the text and JSON forms share:
//   pool "P": job J submitted by gid-S at FILE:LINE
//   pool "P": job J started on gid-E, submitted by gid-S, queue wait W us
//   limiter "L": job J started on gid-E, submitted by gid-S, waited W us
//   pool "P" / limiter "L": job J finished on gid-E in R us (ok|threw), submitted by gid-S
// and the slow-job and limiter-reject WARN records that summary counts, and two DEBUG records:
//   pool "P": worker I started on gid-E            (names a lane)
//   limiter "L": job J thread gid-E started        (a limiter's job thread, before "started")
#include <cstdint>
#include <string_view>

#include "record.h"

namespace gidlog_trace {

enum class hop_kind : std::uint8_t { none, submit, start, finish, slow, reject, worker_start, thread_start };

struct hop {
  hop_kind kind = hop_kind::none;
  bool limiter = false;          // owner is `limiter "name"`, else `pool "name"`
  std::string_view owner;        // `pool "requests"`
  std::string_view name;         // `requests`
  std::uint64_t job = 0;
  std::uint32_t submitter = 0;
  std::uint32_t executor = 0;
  std::int64_t wait_us = -1;     // start
  std::int64_t run_us = -1;      // finish; slow: the milliseconds x 1000
  bool ok = true;                // finish: "(ok)"
  std::uint32_t worker = 0;      // worker_start: the worker's index
};

// The hop a record is, or kind none. Cheap for ordinary records: they fail on the first bytes.
hop read_hop(const record& r) noexcept;

}  // namespace gidlog_trace
