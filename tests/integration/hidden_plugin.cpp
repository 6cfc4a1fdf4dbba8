// A plugin built with -fvisibility=hidden (tests/plugin/hidden_plugin_lib.cpp) obeys set_level and
// logs through the host's running logger: the hot path's inline state (level, generation, producer
// pointer) has default visibility, so the plugin binds to the host's copy instead of its own.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <string>
#include <vector>

#include <gidlog/gidlog.h>

#include "log_capture.h"

namespace {

struct plugin {
  void* handle = dlopen(GIDLOG_TEST_HIDDEN_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
  ~plugin() {
    if (handle != nullptr) dlclose(handle);
  }
  template <class F>
  F* get(const char* name) const {
    return reinterpret_cast<F*>(dlsym(handle, name));
  }
};

std::vector<std::string> messages(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    auto p = l.find("] ");
    out.push_back(p == std::string::npos ? l : l.substr(p + 2));
  }
  return out;
}

}  // namespace

TEST_CASE("a -fvisibility=hidden plugin shares the host's level and logger", "[plugin]") {
  plugin pl;
  INFO((pl.handle != nullptr ? "" : dlerror()));
  REQUIRE(pl.handle != nullptr);
  auto* level_address = pl.get<const void*()>("plugin_level_address");
  auto* gen_address = pl.get<const void*()>("plugin_gen_address");
  auto* log = pl.get<void(int)>("plugin_log");
  REQUIRE(level_address != nullptr);
  REQUIRE(gen_address != nullptr);
  REQUIRE(log != nullptr);
  CHECK(level_address() == &gidlog::detail::g_level);
  CHECK(gen_address() == &gidlog::detail::g_gen);

  gidlog_test::logger_session session;
  gidlog::set_level(gidlog::level::warn);
  log(1);
  gidlog::set_level(gidlog::level::debug);
  log(2);
  auto got = messages(session.lines());
  std::vector<std::string> want{"plugin warn 1", "plugin debug 2", "plugin info 2", "plugin warn 2"};
  CHECK(got == want);
  for (const auto& line : session.lines()) {
    CHECK(line.find("gid-" + std::to_string(gidlog::gid()) + ":hidden_plugin_lib.cpp:") != std::string::npos);
  }
}
