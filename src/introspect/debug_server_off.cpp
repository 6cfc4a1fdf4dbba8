// gidlog::debug_server in a build configured with -DGIDLOG_DEBUG_SERVER=OFF (no cpp-httplib):
// the class exists, so code that names it links, and constructing it says what is missing.
#include <gidlog/introspect/debug_server.h>

#include <stdexcept>

namespace gidlog {
inline namespace v0 {

struct debug_server::impl {};

debug_server::debug_server(debug_options, source_location) {
  throw std::runtime_error(
      "gidlog::debug_server: this gidlog was built without it (-DGIDLOG_DEBUG_SERVER=OFF; it needs cpp-httplib)");
}

debug_server::~debug_server() = default;

std::uint16_t debug_server::port() const noexcept { return 0; }

std::string debug_server::url() const { return {}; }

}  // namespace v0
}  // namespace gidlog
