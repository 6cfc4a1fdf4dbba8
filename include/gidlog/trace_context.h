#pragma once
// W3C trace context: the trace id and span id that HTTP frameworks and OpenTelemetry pass between
// processes in the `traceparent` header (https://www.w3.org/TR/trace-context/), carried by
// gidlog's records as context fields.
//
//   // A request arrives: log under a span of our own, a child of the caller's.
//   auto incoming = gidlog::trace_context::parse(req.header("traceparent"));
//   gidlog::context_scope span{incoming ? incoming->child() : gidlog::trace_context::make_root()};
//   LOG_INFO("handling {path}", path);            // carries trace_id, span_id, parent_span_id, trace_flags
//   pool.submit([] { LOG_INFO("in the job"); });  // the job runs in a child span of this one
//   // An outgoing call carries this thread's span as its parent:
//   out.set_header("traceparent", gidlog::trace_context::current().traceparent());
//
// Records carry the fields trace_id (32 lowercase hex digits), span_id (16), trace_flags (2:
// "01" sampled, "00" not) and, when the span has a parent, parent_span_id (16). JSON lines put
// trace_id, span_id and trace_flags at the top level of each line, as OpenTelemetry's log data
// model names them; `%C` in a text pattern prints them with the other context fields.
//
// A worker_pool or limiter job whose submitter is in a span runs in a child span: a new span_id,
// the submitter's span_id as its parent_span_id, the same trace_id and flags. So the hops of a
// request form a tree that gidlog-trace and any OpenTelemetry backend can rebuild.
//
// A trace_context is a plain value (34 bytes of ids and flags); copying it is free, and any
// thread may use one. Nothing here allocates except traceparent() and the hex accessors, which
// return strings.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <gidlog/context.h>

namespace gidlog {
inline namespace v0 {

class trace_context {
 public:
  // The 16-byte trace id and the 8-byte span ids, as the bytes the hex digits spell.
  using trace_id_bytes = std::array<std::uint8_t, 16>;
  using span_id_bytes = std::array<std::uint8_t, 8>;

  // trace-flags bit 0: the caller may have recorded this trace ("sampled").
  static constexpr std::uint8_t flag_sampled = 0x01;

  // An invalid context (all ids zero): valid() is false and traceparent() is "". Such a context
  // adds no fields to a context_scope.
  constexpr trace_context() noexcept = default;

  // Reads a traceparent header value, or nullopt when the W3C Trace Context rules say to ignore
  // it (then start a new trace: make_root()):
  //   version 00: exactly `00-<trace-id: 32 hex>-<parent-id: 16 hex>-<flags: 2 hex>`, 55 bytes;
  //   a higher version (01..fe): the same first 55 bytes, then either the end or `-` and fields
  //     this version does not know, which are ignored;
  //   rejected: version ff, uppercase or other non-hex digits, a wrong length, a missing `-`, an
  //     all-zero trace-id or parent-id.
  // Only the sampled bit of the flags is kept: the spec has vendors set the bits it does not
  // define to zero, so parse(h)->traceparent() == h for flags 00 and 01, and "...-03" comes back
  // as "...-01". The header's parent-id is the caller's span: it becomes span_id() here, with no
  // parent; use child() to log in a span of your own under it.
  static std::optional<trace_context> parse(std::string_view traceparent) noexcept;

  // A new trace: a random trace id and span id, no parent. `sampled` sets the sampled flag.
  static trace_context make_root(bool sampled = true);

  // The calling thread's trace context: the one put by the innermost context_scope that carries
  // one (a context_scope{trace_context}, or the span a worker_pool or limiter job runs in). An
  // invalid trace_context when there is none: current().traceparent() is then "", so send the
  // header only when it is not empty (or start a trace with make_root()).
  static trace_context current() noexcept;

  // A span under this one: the same trace id and flags, a new random span id, this span's id as
  // its parent. The child of an invalid context is a new root (make_root()).
  trace_context child() const;

  // Both ids are non-zero: parse() and make_root() give only valid contexts.
  bool valid() const noexcept;
  // "00-<trace_id>-<span_id>-<flags>", the header for an outgoing request in this span; "" when
  // !valid().
  std::string traceparent() const;

  std::string trace_id() const;        // 32 lowercase hex digits
  std::string span_id() const;         // 16 lowercase hex digits
  std::string parent_span_id() const;  // 16 lowercase hex digits; "" when there is no parent
  bool has_parent() const noexcept;
  std::uint8_t flags() const noexcept { return flags_; }
  bool sampled() const noexcept { return (flags_ & flag_sampled) != 0; }

  const trace_id_bytes& trace_id_raw() const noexcept { return trace_; }
  const span_id_bytes& span_id_raw() const noexcept { return span_; }
  const span_id_bytes& parent_span_id_raw() const noexcept { return parent_; }  // zeros: no parent

  // Equal ids and flags (the parent too).
  friend bool operator==(const trace_context&, const trace_context&) noexcept = default;

 private:
  trace_id_bytes trace_{};
  span_id_bytes span_{};
  span_id_bytes parent_{};
  std::uint8_t flags_ = 0;
};

}  // namespace v0
}  // namespace gidlog
