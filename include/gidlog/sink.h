#pragma once
// Moved to <gidlog/sinks/sink.h> (the sink interface), <gidlog/sinks/console.h> (console_sink)
// and <gidlog/sinks/file.h> (file_sink); this forwarding header goes away in 0.3.
#include <gidlog/sinks/console.h>
#include <gidlog/sinks/file.h>
#include <gidlog/sinks/sink.h>
