#pragma once
// The context field names that carry a W3C trace context (context_scope{trace_context} writes them,
// trace_context::current() reads them, the JSON sink lifts some of them to the top level).
#include <string_view>

namespace gidlog {
inline namespace v0 {
namespace detail::trace_field {

inline constexpr std::string_view trace_id = "trace_id";
inline constexpr std::string_view span_id = "span_id";
inline constexpr std::string_view trace_flags = "trace_flags";
inline constexpr std::string_view parent_span_id = "parent_span_id";

}  // namespace detail::trace_field
}  // namespace v0
}  // namespace gidlog
