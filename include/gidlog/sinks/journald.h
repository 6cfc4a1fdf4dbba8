#pragma once
// journald_sink: records to systemd-journald over its native protocol, each argument and context
// entry as a journal field of its own, so `journalctl REQ=r-42` finds a request's records. It
// speaks the protocol itself (systemd's "Native Journal Protocol" document): no libsystemd.
//
//   gidlog::options opt;
//   opt.sinks = {gidlog::journald_sink()};
//   gidlog::start(opt);
//   gidlog::context_scope scope{{"req", "r-42"}, {"user_id", 7}};
//   LOG_WARN("retry {seq} of {path}", seq, path);
//   // $ journalctl -o json REQ=r-42
//   // {"MESSAGE":"retry 3 of /v1/pay","PRIORITY":"4","CODE_FILE":"pay.cpp","CODE_LINE":"88",
//   //  "CODE_FUNC":"charge","TID":"4711","SYSLOG_IDENTIFIER":"payd","GIDLOG_LOGGER":"main",
//   //  "GIDLOG_TIME_USEC":"1796599380854801","REQ":"r-42","USER_ID":"7","SEQ":"3",
//   //  "PATH":"/v1/pay", ... journald's own _PID, _COMM, __REALTIME_TIMESTAMP ...}
//
// Fields of every record:
//   MESSAGE            the formatted message as logged (newlines kept)
//   PRIORITY           syslog severity: trace, debug 7; info 6; warn 4; error 3; fatal 2
//   CODE_FILE          the source file's base name      CODE_LINE   the line, in decimal
//   CODE_FUNC          the function                     TID         the logging thread's gid
//   SYSLOG_IDENTIFIER  journald_options::syslog_identifier, by default
//                      program_invocation_short_name (what syslog(3) and syslog_sink use)
//   GIDLOG_LOGGER      the logger's name (options::name for LOG_*)
//   GIDLOG_TIME_USEC   when the record was logged, microseconds since the Unix epoch (journald's
//                      own timestamps say when the backend sent it, a little later)
// then the record's context_scope entries (outer scopes first), then its arguments in order
// ("{seq}" is seq, an unnamed "{}" arg0, arg1, ...) when journald_options::named_fields.
//
// Field names: a key is upper-cased, every byte outside A-Z, 0-9 and '_' becomes '_' ("user_id"
// -> USER_ID, "http-status" -> HTTP_STATUS, "é" -> "__"), then "F_" goes in front of a name that
// starts with '_' or a digit or is empty (journald keeps "_" names for the fields it sets itself),
// and of a name equal to one of the nine above ("message" -> F_MESSAGE, "tid" -> F_TID), so a
// record's own fields always mean what this header says. Names are cut to 64 bytes, journald's
// limit. Other fields journald gives a meaning to (MESSAGE_ID, ERRNO, ...) pass unchanged: a
// context key "message_id" sets the catalog id on purpose.
// Collisions: two keys of one record that come out as the same name ("req" in the context and a
// "{req}" argument, or "user-id" and "user_id") are both sent, context first, as a repeated field:
// journald keeps every value, `journalctl FIELD=value` matches any of them, and `journalctl -o
// json` shows them as an array. (journald stores an identical NAME=value pair once per record.)
// Values: strings as logged, byte for byte (a value holding a newline is sent in the protocol's
// binary form, so it arrives whole); integers in decimal; floating-point numbers in the shortest
// form that reads back the same ("2.5", "1e-09"); bools as true/false.
//
// Transport: one AF_UNIX datagram per record to journald_options::socket_path. A record larger
// than the socket takes in one datagram (about 208 KiB with Linux's default buffer sizes) is
// written to a memfd sealed against change (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_SEAL)
// whose descriptor goes to journald with an empty datagram (SCM_RIGHTS), as systemd documents;
// journald_counters::via_memfd counts those. journald takes records up to 768 MiB that way.
//
// Failures: no journald (the socket missing: ENOENT; nobody behind it: ECONNREFUSED), or a
// journald that takes nothing for journald_options::timeout, makes write() throw. The backend
// then counts it (gidlog::get_counters().sink_errors), reports it once through
// options::error_handler, keeps this record and every later one for this sink in order in its
// backlog (bounded by options::sink_backlog_bytes) and retries with back-off (20 ms doubling to
// 1 s); each retry connects again, so a journald that starts, or restarts and makes its socket
// anew, gets the records, each once and in order. Nothing blocks longer than the timeout and
// nothing raises SIGPIPE. A journald that was restarted may have lost what it had received but
// not yet written (as for any journald client).
//
// Threading: like every sink, called by the backend thread only (and by the synchronous paths
// under the writer lock). get_journald_counters() may be called from any thread. In a fork()
// child the sink makes its own connection.
#include <chrono>
#include <cstdint>
#include <string>

#include <gidlog/sinks/sink.h>

namespace gidlog {
inline namespace v0 {

struct journald_options {
  // journald's native socket. Another path reaches a journald run in a namespace or a container
  // (`systemd-journald` listens on <runtime dir>/systemd/journal/socket). 1..107 bytes.
  std::string socket_path = "/run/systemd/journal/socket";

  // SYSLOG_IDENTIFIER of every record (`journalctl -t NAME`). Empty: program_invocation_short_name
  // (the executable's base name), or "gidlog" when that is empty too.
  std::string syslog_identifier = {};

  // Send each record's arguments as fields ("{seq}" -> SEQ). false: the context entries and the
  // fixed fields only.
  bool named_fields = true;

  // The most time one write() waits for a journald whose socket queue is full to take a record.
  // Then it throws, the backend keeps the record and retries later. 1 ms .. 60 s.
  std::chrono::milliseconds timeout{1000};
};

// A sink sending each record to journald; see the top of this header. Options are checked by
// gidlog::start() (std::invalid_argument naming options::sinks and the field); a journald that is
// not running is not an option error: the records wait in the backlog until it runs.
sink_ptr journald_sink(journald_options opts = {});

// What a journald sink did since it was made.
struct journald_counters {
  std::uint64_t sent;        // records journald's socket took (datagrams and memfds)
  std::uint64_t via_memfd;   // of those, records too large for a datagram, sent as a sealed memfd
  std::uint64_t connects;    // connections made to the socket, the first included
};

// The counters of a sink made by journald_sink(); all zero for any other sink. Any thread.
journald_counters get_journald_counters(const sink_ptr& s) noexcept;

}  // namespace v0
}  // namespace gidlog
