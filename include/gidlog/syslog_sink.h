#pragma once
// Moved to <gidlog/sinks/syslog.h>; this forwarding header goes away in 0.3.
#include <gidlog/sinks/syslog.h>
// syslog_sink.h included sink.h, so it declares console_sink and file_sink too.
#include <gidlog/sinks/console.h>
#include <gidlog/sinks/file.h>
