// A plugin compiled with -fvisibility=hidden -fvisibility-inlines-hidden that logs through the
// host's logger (tests/integration/hidden_plugin.cpp). It links no copy of gidlog: the logger's
// functions and shared state come from the executable, which exports them.
#include <gidlog/gidlog.h>

#define PLUGIN_API extern "C" __attribute__((visibility("default")))

// Where this module's references to the shared state land: the host compares with its own.
PLUGIN_API const void* plugin_level_address() { return &gidlog::detail::g_level; }
PLUGIN_API const void* plugin_gen_address() { return &gidlog::detail::g_gen; }

PLUGIN_API void plugin_log(int i) {
  LOG_DEBUG("plugin debug {}", i);
  LOG_INFO("plugin info {}", i);
  LOG_WARN("plugin warn {}", i);
}
