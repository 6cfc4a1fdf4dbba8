// Backend thread: the text file sinks, file_sink and rotating_file_sink: each line per
// options::pattern appended to a log_file (sinks/log_file.h), which buffers, reopens and rotates.
#include <optional>
#include <string>

#include <gidlog/sinks/rotating_file.h>
#include <gidlog/sinks/file.h>

#include "sinks/log_file.h"

namespace gidlog {
inline namespace v0 {
namespace {

class text_file_sink final : public detail::file_backed_sink {
 public:
  using file_backed_sink::file_backed_sink;
  void write(const log_line& line) override { file_.append(line.text, line.time_ns); }
};

}  // namespace

sink_ptr file_sink(std::string path, file_sink_options opts) {
  return std::make_shared<text_file_sink>(std::move(path), opts, std::nullopt, "file_sink", "");
}

sink_ptr rotating_file_sink(std::string path, rotation r, file_sink_options opts) {
  return std::make_shared<text_file_sink>(std::move(path), opts, r, "rotating_file_sink", "rotation");
}

}  // namespace v0
}  // namespace gidlog
