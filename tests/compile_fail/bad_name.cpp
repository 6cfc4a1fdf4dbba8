// expect: gidlog_format_error_placeholder_name_is_not_an_identifier
#include <gidlog/gidlog.h>
void f(int a) { LOG_INFO("user {user-id}", a); }
