// Compiled once per old header path (GIDLOG_FORWARDER_<NAME>, headers_alone/CMakeLists.txt):
// each block includes one path kept as a forwarding header until 0.3, alone, and uses what that
// path declared before the headers were sorted by topic. Compile-only: nothing here runs.
#include <type_traits>

#if defined(GIDLOG_FORWARDER_SINK)
#include <gidlog/sink.h>
// The sink interface, console_sink and file_sink: all of the old sink.h.
struct vector_sink final : gidlog::sink {
  void write(const gidlog::log_line& l) override { (void)l.text; }
};
void use_old_path() {
  gidlog::sink_ptr p = std::make_shared<vector_sink>();
  p = gidlog::file_sink("app.log", gidlog::file_sink_options{.truncate = true});
  p = gidlog::console_sink(gidlog::console_stream::err, gidlog::color_mode::never);
}

#elif defined(GIDLOG_FORWARDER_FILE_SINKS)
#include <gidlog/file_sinks.h>
// Rotation, compression, rotating_file_sink and json_sink, plus what sink.h gave it.
void use_old_path() {
  gidlog::rotation r{.max_bytes = 1 << 20, .compress = gidlog::compression::gzip};
  gidlog::sink_ptr p = gidlog::rotating_file_sink("app.log", r);
  p = gidlog::json_sink("app.jsonl", gidlog::json_sink_options{.rotation = r});
  p = gidlog::file_sink("plain.log");
  p = gidlog::console_sink();
}

#elif defined(GIDLOG_FORWARDER_SYSLOG_SINK)
#include <gidlog/syslog_sink.h>
void use_old_path() {
  gidlog::sink_ptr p = gidlog::syslog_sink({.format = gidlog::syslog_format::rfc3164});
  (void)gidlog::get_syslog_counters(p);
  p = gidlog::file_sink("plain.log");
  p = gidlog::console_sink();
}

#elif defined(GIDLOG_FORWARDER_JOURNALD_SINK)
#include <gidlog/journald_sink.h>
void use_old_path() {
  gidlog::sink_ptr p = gidlog::journald_sink();
  p = gidlog::file_sink("plain.log");
  p = gidlog::console_sink();
}

#elif defined(GIDLOG_FORWARDER_TASKS)
#include <gidlog/runtime/tasks.h>
// The registry and every exception the old runtime/tasks.h held, now beside their owners.
void use_old_path() {
  (void)gidlog::tasks::count();
  (void)gidlog::to_string(gidlog::task_state::queued);
  static_assert(std::is_base_of_v<std::runtime_error, gidlog::pool_closed>);
  static_assert(std::is_base_of_v<std::runtime_error, gidlog::pool_full>);
  static_assert(std::is_base_of_v<gidlog::task_cancelled, gidlog::task_timeout>);
  static_assert(std::is_base_of_v<std::logic_error, gidlog::would_deadlock>);
}

#elif defined(GIDLOG_FORWARDER_LEAK_CHECK)
#include <gidlog/runtime/leak_check.h>
void use_old_path() {
  auto snap = gidlog::leak_snapshot::take();
  (void)gidlog::find_leaks(snap, gidlog::leak_options{.threads = true});
}

#elif defined(GIDLOG_FORWARDER_CATCH2)
#include <gidlog/runtime/catch2.h>
#if !defined(GIDLOG_CHECK_NO_LEAKS) || !defined(GIDLOG_REQUIRE_NO_THREAD_LEAKS)
#error "runtime/catch2.h no longer defines the leak assertions"
#endif
void use_old_path() { (void)gidlog::thread_snapshot::take(); }

#elif defined(GIDLOG_FORWARDER_OPTIONS)
#include <gidlog/options.h>
// options.h keeps declaring console_sink and file_sink until 0.3, as it did before sinks/.
void use_old_path() {
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink("app.log"), gidlog::console_sink()};
}

#else
#error "define one GIDLOG_FORWARDER_<NAME>"
#endif
