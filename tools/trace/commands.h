#pragma once
// The three subcommands. Each returns the process exit status: 0 when something matched, 1 when
// nothing did, 2 when an input could not be opened or read (bad lines alone do not change it).
#include <cstdio>
#include <string>
#include <vector>

#include "follow.h"
#include "reader.h"
#include "util.h"

namespace gidlog_trace {

struct inputs {
  reader_options reader;
  std::vector<std::string> files;  // empty or "-": stdin
};

int run_follow(const inputs& in, const follow_query& q, const record_filter& f, std::FILE* out);

struct summary_options {
  bool json = false;
  std::size_t top_sites = 3;  // busiest call sites per gid
  std::size_t slow_jobs = 5;  // longest jobs per pool
};
int run_summary(const inputs& in, const summary_options& o, std::FILE* out);

struct timeline_options {
  std::string out;   // Trace Event JSON; empty: not written
  std::string html;  // the page; empty: not written
  std::optional<follow_query> only;  // --gid / --field: the trail's records alone
  record_filter filter;
  std::size_t records_per_slice = 200;  // shown on a click, the rest counted
};
int run_timeline(const inputs& in, const timeline_options& o);

// Exit status from what a scan found.
inline int exit_status(const scan_stats& s, bool matched) { return s.open_failed ? 2 : matched ? 0 : 1; }

}  // namespace gidlog_trace
