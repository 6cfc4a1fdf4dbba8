// expect: on_error
// (fmt's own check of the spec against the argument's type, run on the text without names)
#include <gidlog/gidlog.h>
void f(int a) { LOG_INFO("{:s}", a); }
