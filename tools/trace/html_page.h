#pragma once
#include <string>

namespace gidlog_trace {

// A self-contained page (no network: inline CSS, SVG drawn by an inline script) showing the lanes,
// slices, flows and warnings in `data` (JSON built by run_timeline), with zoom and a click on a
// slice listing its records. `data` must already be safe inside <script> (json_quoted escapes '<').
std::string html_page(const std::string& data);

}  // namespace gidlog_trace
