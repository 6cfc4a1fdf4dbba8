// expect: gidlog_format_error_the_same_placeholder_name_twice
#include <gidlog/gidlog.h>
void f(int a, int b) { LOG_INFO("{user} and {user}", a, b); }
