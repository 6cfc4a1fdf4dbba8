// expect: gidlog_format_error_named_placeholders_mixed_with_indices
#include <gidlog/gidlog.h>
void f(int a, int b) { LOG_INFO("{0} {user}", a, b); }
