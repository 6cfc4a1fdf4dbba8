// expect: std_duration
// (LOG_*_EVERY takes a std::chrono duration, recognised without <chrono> in gidlog's header: a bare number is rejected)
#include <gidlog/gidlog.h>
void f(int n) { LOG_INFO_EVERY(100, "tick {}", n); }
