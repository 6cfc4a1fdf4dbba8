// expect-compiles: the same shapes as the failing cases, written correctly (the harness's control).
#include <gidlog/gidlog.h>
void f(int a, double b, const char* c) {
  LOG_INFO("login {user} from {ip} took {ms:.1f} ms", c, c, b);
  LOG_INFO("{} {:>8} {}", a, b, c);
  LOG_INFO("{1} {0}", a, c);
  LOG_INFO("{value:>{width}}", a, a);
  LOG_INFO("no placeholders");
}
