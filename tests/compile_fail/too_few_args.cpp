// expect: gidlog_format_error_argument_count_differs_from_placeholders
#include <gidlog/gidlog.h>
void f(int a) { LOG_INFO("{user} {ip}", a); }
