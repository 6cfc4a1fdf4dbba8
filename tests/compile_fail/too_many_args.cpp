// expect: gidlog_format_error_argument_count_differs_from_placeholders
#include <gidlog/gidlog.h>
void f(int a, int b) { LOG_INFO("only {one}", a, b); }
