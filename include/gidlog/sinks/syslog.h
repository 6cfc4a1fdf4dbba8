#pragma once
// syslog_sink: records to a syslog daemon (rsyslog, syslog-ng, a local /dev/log reader) over a
// unix socket, UDP or TCP, as RFC 5424 (default) or RFC 3164 messages.
//
//   gidlog::options opt;
//   opt.sinks = {gidlog::syslog_sink({.address = "udp://127.0.0.1:5514", .app_name = "auth"})};
//   gidlog::start(opt);
//   gidlog::context_scope scope{{"req", "r-42"}};
//   LOG_WARN("login {user} failed", user);
//   // <12>1 2026-11-30T09:15:02.117503Z web1 auth 4242 - [gidlog@32473 gid="4711" file="auth.cpp"
//   //   line="12" func="login" logger="main" req="r-42"][fields@32473 user="alice"] login alice failed
//
// Severity (RFC 5424 numbers), PRI = facility * 8 + severity:
//   trace, debug -> 7 debug    info -> 6 informational    warn -> 4 warning
//   error -> 3 error           fatal -> 2 critical
//
// RFC 5424: "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG". TIMESTAMP is UTC with
// microseconds; PROCID the process id (the child's after fork()); MSGID "-"; MSG the formatted
// message as logged, without a BOM. Newlines stay inside the one message (rsyslog shows them as
// #012). Structured data:
//   [gidlog@N gid file line func logger <context>]  always: the record's site, then its
//       context_scope fields (outer scopes first). A context key equal to one of the five names
//       before it is written as "ctx.<key>".
//   [fields@N <named fields>]  when syslog_options::named_fields and the record has arguments:
//       "{user}" as user, an unnamed "{}" as arg0, arg1, ... Values as text: integers in decimal,
//       floats in the shortest form that reads back the same, bools as true/false.
//   N is syslog_options::enterprise_number. A key becomes an SD-NAME by replacing every byte that
//   RFC 5424 does not allow there (anything but printable ASCII, and '=', ' ', ']', '"') with '_'
//   and keeping the first 32 bytes; an empty key becomes "_". In values, '"', '\' and ']' are
//   escaped with '\' and invalid UTF-8 bytes become U+FFFD, so the structured data always parses.
//
// RFC 3164: "<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: [gid-N:file:line] message key=value ...",
// local time, the context as logfmt pairs (a value that is empty or holds a space, a control
// character, '"', '=' or '\' is quoted, with '"' and '\' escaped). No structured data and no named
// fields (they are in the message). Over a unix socket HOSTNAME is left out, as syslog(3) does and
// local daemons expect.
//
// Transports (syslog_options::address):
//   "unix:/dev/log"   a datagram socket, one message per datagram. When the path is a stream
//                     socket, messages go over the stream, each followed by a NUL byte (as
//                     syslog(3) does). When the daemon restarts and makes its socket again, the
//                     sink reconnects at the next message.
//   "udp://host:port" one message per datagram. The sink never learns whether it arrived: a
//                     receiver's "port unreachable" shows up as the next send's error, counted in
//                     syslog_counters::refused.
//   "tcp://host:port" RFC 6587 octet counting ("LEN SP MSG"), buffered up to 64 KiB and sent when
//                     the backend flushes (idle, gidlog::flush(), a record at options::flush_on).
//   host: a name, an IPv4 address or an IPv6 address in brackets ("[::1]"), resolved once, by
//   gidlog::start(); port: 514 when left out. A bad address or a name that does not resolve makes
//   gidlog::start() throw std::invalid_argument naming options::sinks.
//
// Datagrams longer than max_datagram_bytes are cut to fit, never dropped: first the message
// text, then, when the structured data alone is too long, its values; the message then ends with
// "...[truncated N bytes]" (N: the bytes left out) and syslog_counters::truncated counts it. A
// cut never splits a UTF-8 character. Stream transports send every message whole (a receiver may
// cut it: rsyslog at its maxMessageSize, 8 KiB by default).
//
// Failures: write() and flush() throw when a message cannot be sent (no daemon, the peer closed
// or reset the connection, a peer that does not read for `timeout`). gidlog's backend then keeps
// the line and every later one for this sink, in order, in its backlog (bounded by
// options::sink_backlog_bytes, past which the oldest are dropped, counted and announced),
// reports the error once, and retries with back-off (20 ms doubling to 1 s); there is no second
// backlog in the sink. Each retry reconnects, no sooner than the reconnect back-off below allows;
// a message the broken connection took only part of is sent again, whole, on the new one. The
// sink checks that a TCP peer is still there before each send (a syslog daemon never writes
// back, so a readable socket means it closed), so a daemon that died between two flushes loses
// nothing; messages sent in the instant it dies can be lost, as with any plain TCP syslog.
//
// Threading: like every sink, called by the backend thread only (and by the synchronous paths
// under the writer lock). Sends never raise SIGPIPE (MSG_NOSIGNAL). get_syslog_counters() may be
// called from any thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <gidlog/sinks/sink.h>

namespace gidlog {
inline namespace v0 {

enum class syslog_format : std::uint8_t { rfc5424, rfc3164 };

struct syslog_options {
  // "unix:/path", "udp://host[:port]" or "tcp://host[:port]"; see the transports above.
  std::string address = "unix:/dev/log";

  syslog_format format = syslog_format::rfc5424;

  // APP-NAME (RFC 5424, at most 48 bytes) or TAG (RFC 3164, at most 32 bytes); bytes other than
  // printable ASCII become '_'. Empty: program_invocation_short_name.
  std::string app_name = {};

  // 0..23: 0 kern, 1 user, 2 mail, 3 daemon, 4 auth, 5 syslog, 6 lpr, 7 news, 8 uucp, 9 cron,
  // 10 authpriv, 11 ftp, 12 ntp, 13 audit, 14 alert, 15 clock, 16..23 local0..local7.
  int facility = 1;

  // HOSTNAME (at most 255 bytes, bytes other than printable ASCII become '_'). Empty: this
  // machine's gethostname(), read by gidlog::start().
  std::string hostname = {};

  // The enterprise number in the structured-data IDs ("gidlog@N", "fields@N"). 32473 is the
  // number RFC 5612 reserves for documentation; put your organisation's IANA Private Enterprise
  // Number here if the receiving side checks.
  std::uint32_t enterprise_number = 32473;

  // RFC 5424: write the record's arguments as [fields@N ...]. false: only [gidlog@N ...].
  bool named_fields = true;

  // Datagram transports: the most bytes one message may take (header and structured data
  // included), 480..65507. 0: 2048 over UDP (what RFC 5426 says receivers should accept) and 8192
  // over a unix datagram socket (rsyslog's default maxMessageSize). Raise it when the receiver
  // takes more: rsyslog up to its maxMessageSize, journald's /dev/log far more.
  std::size_t max_datagram_bytes = 0;

  // The most time one write() or flush() waits: for a connection to be made, or for a peer (or a
  // unix datagram reader) that does not read to take a message. Then it throws and the backend
  // retries later, so a stalled daemon delays the backend by at most this much per attempt.
  // 1 ms .. 60 s.
  std::chrono::milliseconds timeout{1000};

  // Stream transports and unix sockets: after a failed connection attempt the next one waits
  // reconnect_min, doubling with each failure up to reconnect_max; a write() or flush() in
  // between throws at once without touching the network. The first attempt after a connection
  // broke is immediate. 1 ms <= reconnect_min <= reconnect_max <= 10 min.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

// A sink sending each record to a syslog daemon; see the top of this header. Options are checked
// by gidlog::start() (std::invalid_argument naming options::sinks and the field).
sink_ptr syslog_sink(syslog_options opts = {});

// What a syslog sink did since it was made.
struct syslog_counters {
  std::uint64_t sent;         // messages the socket took (a stream: written to the connection)
  std::uint64_t truncated;    // datagrams cut to max_datagram_bytes (each ends with the marker)
  std::uint64_t connects;     // connections made, the first included
  std::uint64_t disconnects;  // connections found closed, reset or stalled, and dropped
  std::uint64_t refused;      // UDP: "port unreachable" reports for earlier datagrams (lost)
};

// The counters of a sink made by syslog_sink(); all zero for any other sink. Any thread.
syslog_counters get_syslog_counters(const sink_ptr& s) noexcept;

}  // namespace v0
}  // namespace gidlog
