// W3C trace context (no backend): traceparent parsing against the spec's rules (version 00,
// higher versions, every kind of invalid header), formatting and round trips, new ids, child
// spans, and the thread's current context as context_scope puts it.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <gidlog/context.h>
#include <gidlog/trace_context.h>

namespace {

using gidlog::trace_context;

// The spec's examples.
constexpr std::string_view sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr std::string_view not_sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

// a + b (through fmt: g++ 12 -O2 warns, wrongly, about std::string's operator+ here).
std::string cat(std::string_view a, std::string_view b) { return fmt::format("{}{}", a, b); }

bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// The context field `key` as a string, or "" when absent.
std::string context_field(std::string_view key) {
  const gidlog::context c = gidlog::context::get();
  for (const gidlog::field& f : c.fields())
    if (f.name == key) return std::string(f.value.s);
  return {};
}

}  // namespace

TEST_CASE("trace_context: the spec's examples parse, with their ids and flags", "[trace_context]") {
  const auto t = trace_context::parse(sampled);
  REQUIRE(t.has_value());
  CHECK(t->valid());
  CHECK(t->trace_id() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(t->span_id() == "00f067aa0ba902b7");
  CHECK(t->flags() == 1);
  CHECK(t->sampled());
  CHECK_FALSE(t->has_parent());
  CHECK(t->parent_span_id().empty());
  CHECK(t->trace_id_raw()[0] == 0x4b);
  CHECK(t->trace_id_raw()[15] == 0x36);
  CHECK(t->span_id_raw()[1] == 0xf0);
  CHECK(t->traceparent() == sampled);

  const auto u = trace_context::parse(not_sampled);
  REQUIRE(u.has_value());
  CHECK_FALSE(u->sampled());
  CHECK(u->flags() == 0);
  CHECK(u->traceparent() == not_sampled);
  CHECK_FALSE(*t == *u);
}

TEST_CASE("trace_context: only the sampled flag is kept, the undefined bits are set to zero", "[trace_context]") {
  const std::string base(sampled.substr(0, 53));
  for (int f = 0; f < 256; ++f) {
    const char hex[] = "0123456789abcdef";
    const std::string h = base + hex[f >> 4] + hex[f & 15];
    INFO(h);
    const auto t = trace_context::parse(h);
    REQUIRE(t.has_value());
    CHECK(t->sampled() == ((f & 1) != 0));
    CHECK(t->traceparent() == base + ((f & 1) != 0 ? "01" : "00"));
  }
}

TEST_CASE("trace_context: each kind of invalid header is rejected", "[trace_context]") {
  const std::vector<std::string> invalid = {
      "",
      "00",
      "00-",
      std::string(sampled.substr(0, 54)),                         // a flags digit short
      cat(sampled, "0"),                                          // version 00 is exactly 55 bytes
      cat(sampled, "-"),                                          // ... no future fields in 00
      cat(sampled, "-what-the-future-will-be-like"),              // ...
      cat(" ", sampled),                                          // no whitespace around it
      cat(sampled, " "),
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase trace-id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",  // uppercase parent-id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",  // uppercase flags
      "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // uppercase version
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace-id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent-id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff is forbidden
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future",
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",  // trace-id one short
      "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01",  // trace-id one long
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-701",  // parent-id one short
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b70-1",  // parent-id one long, flags short
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // not '-'
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  // not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version of 3 digits
      "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // of 1
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // no flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-",
      // A higher version must still hold valid fields, and a '-' (or the end) after the flags.
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what-the-future-will-be-like",
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010",
      "cc-00000000000000000000000000000000-00f067aa0ba902b7-01-x",
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01-x",
      "cc-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01-x",
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // shorter than 55
      "CC-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  };
  for (const std::string& h : invalid) {
    INFO('"' << h << '"');
    CHECK_FALSE(trace_context::parse(h).has_value());
  }
  std::string with_nul(sampled);
  with_nul[20] = '\0';
  CHECK_FALSE(trace_context::parse(with_nul).has_value());
}

// Every byte at every position of a valid header: valid exactly when the byte is what the spec's
// grammar allows there (a '-' at a separator, a lowercase hex digit elsewhere: another version
// is a higher version, valid at 55 bytes).
TEST_CASE("trace_context: every byte at every position of a header", "[trace_context]") {
  int accepted = 0;
  for (std::size_t pos = 0; pos < sampled.size(); ++pos) {
    for (int b = 0; b < 256; ++b) {
      std::string h(sampled);
      h[pos] = static_cast<char>(b);
      const bool separator = pos == 2 || pos == 35 || pos == 52;
      const bool expect = separator ? h[pos] == '-' : lower_hex(h[pos]);
      const auto t = trace_context::parse(h);
      INFO("position " << pos << " byte " << b);
      REQUIRE(t.has_value() == expect);
      if (!t) continue;
      ++accepted;
      // Whatever version it came in, it goes out as version 00 with the same ids, and the
      // sampled bit alone of the flags (the last digit's lowest bit).
      const bool odd = std::string_view("13579bdf").find(h[54]) != std::string_view::npos;
      CHECK(t->traceparent() == cat(cat("00", std::string_view(h).substr(2, 51)), odd ? "01" : "00"));
    }
  }
  CHECK(accepted == 52 * 16 + 3);  // 16 hex digits at each of 52 positions, '-' alone at 3
}

TEST_CASE("trace_context: every version but ff", "[trace_context]") {
  const char hex[] = "0123456789abcdef";
  for (int v = 0; v < 256; ++v) {
    const char version[2] = {hex[v >> 4], hex[v & 15]};
    const std::string h = cat(std::string_view(version, 2), sampled.substr(2));
    INFO(h);
    CHECK(trace_context::parse(h).has_value() == (v != 0xff));
  }
}

TEST_CASE("trace_context: a higher version is read for its first four fields", "[trace_context]") {
  const std::string tail(sampled.substr(2));
  for (const std::string v : {"01", "cc", "fe"}) {
    for (const std::string extra : {"", "-", "-what-the-future-will-be-like", "-a-b-c"}) {
      const std::string h = cat(cat(v, tail), extra);
      INFO(h);
      const auto t = trace_context::parse(h);
      REQUIRE(t.has_value());
      CHECK(t->traceparent() == sampled);  // written as the highest version known: 00
    }
  }
}

TEST_CASE("trace_context: make_root makes valid, distinct ids; the default one is invalid", "[trace_context]") {
  const trace_context none;
  CHECK_FALSE(none.valid());
  CHECK(none.traceparent().empty());
  CHECK(none.trace_id() == std::string(32, '0'));

  std::set<std::string> traces, spans;
  for (int i = 0; i < 10000; ++i) {
    const trace_context r = trace_context::make_root(i % 2 == 0);
    REQUIRE(r.valid());
    CHECK_FALSE(r.has_parent());
    CHECK(r.sampled() == (i % 2 == 0));
    const std::string h = r.traceparent();
    const auto back = trace_context::parse(h);
    REQUIRE(back.has_value());
    CHECK(*back == r);
    CHECK(back->traceparent() == h);
    traces.insert(r.trace_id());
    spans.insert(r.span_id());
  }
  CHECK(traces.size() == 10000);
  CHECK(spans.size() == 10000);
}

TEST_CASE("trace_context: child keeps the trace and flags, takes a new span, names its parent", "[trace_context]") {
  const trace_context p = *trace_context::parse(sampled);
  const trace_context c = p.child();
  CHECK(c.valid());
  CHECK(c.trace_id() == p.trace_id());
  CHECK(c.flags() == p.flags());
  CHECK(c.has_parent());
  CHECK(c.parent_span_id() == p.span_id());
  CHECK(c.span_id() != p.span_id());
  const trace_context g = c.child();
  CHECK(g.parent_span_id() == c.span_id());
  CHECK(g.trace_id() == p.trace_id());
  // The header for a call made from the child carries the child's span; the parent is local.
  CHECK(c.traceparent() == "00-" + p.trace_id() + "-" + c.span_id() + "-01");

  const trace_context orphan = trace_context{}.child();  // a new root
  CHECK(orphan.valid());
  CHECK_FALSE(orphan.has_parent());
}

TEST_CASE("trace_context: current() is the innermost scope's, and nothing outside any", "[trace_context]") {
  REQUIRE_FALSE(trace_context::current().valid());
  CHECK(trace_context::current().traceparent().empty());
  const trace_context root = *trace_context::parse(sampled);
  {
    gidlog::context_scope req{{"req", "r-42"}};
    CHECK_FALSE(trace_context::current().valid());  // fields, but no trace context
    gidlog::context_scope outer{root};
    CHECK(trace_context::current() == root);
    CHECK(context_field("trace_id") == root.trace_id());
    CHECK(context_field("span_id") == root.span_id());
    CHECK(context_field("trace_flags") == "01");
    CHECK(context_field("parent_span_id").empty());
    CHECK(context_field("req") == "r-42");  // the outer fields stay
    const trace_context child = root.child();
    {
      gidlog::context_scope inner{child};
      CHECK(trace_context::current() == child);
      CHECK(context_field("parent_span_id") == root.span_id());
      CHECK(context_field("span_id") == child.span_id());
      {
        // A root inside a child: its scope hides the outer span's parent.
        const trace_context other = trace_context::make_root(false);
        gidlog::context_scope again{other};
        CHECK(trace_context::current() == other);
        CHECK(context_field("parent_span_id").empty());
        CHECK(context_field("trace_flags") == "00");
        // An invalid one adds nothing.
        gidlog::context_scope nothing{trace_context{}};
        CHECK(trace_context::current() == other);
      }
      CHECK(trace_context::current() == child);
      // The snapshot carries it to another thread's scope (what worker_pool does).
      const gidlog::context snap = gidlog::context::get();
      trace_context seen;
      std::thread t([&] {
        gidlog::context_scope s{snap};
        seen = trace_context::current();
      });
      t.join();
      CHECK(seen == child);
    }
    CHECK(trace_context::current() == root);
  }
  CHECK_FALSE(trace_context::current().valid());
}

TEST_CASE("trace_context: fields set by hand that are not hex ids are no trace context", "[trace_context]") {
  gidlog::context_scope s{{"trace_id", "abc"}, {"span_id", "00f067aa0ba902b7"}};
  CHECK_FALSE(trace_context::current().valid());
  gidlog::context_scope z{{"trace_id", std::string(32, '0')}};
  CHECK_FALSE(trace_context::current().valid());
  gidlog::context_scope ok{{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}, {"trace_flags", 1}};
  const trace_context t = trace_context::current();  // an integer trace_flags is not read: not sampled
  CHECK(t.valid());
  CHECK_FALSE(t.sampled());
  CHECK(t.span_id() == "00f067aa0ba902b7");
}

// A fork() child has the parent's thread-local state: its ids must still differ from the parent's.
TEST_CASE("trace_context: a fork() child makes other ids than its parent", "[trace_context]") {
  (void)trace_context::make_root();  // the parent's generator is seeded before the fork
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string h = trace_context::make_root().traceparent() + trace_context::make_root().traceparent();
    const bool ok = ::write(fds[1], h.data(), h.size()) == static_cast<ssize_t>(h.size());
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string mine = trace_context::make_root().traceparent() + trace_context::make_root().traceparent();
  std::string theirs(mine.size(), '\0');
  std::size_t got = 0;
  while (got < theirs.size()) {
    const ssize_t n = ::read(fds[0], theirs.data() + got, theirs.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == theirs.size());
  CHECK(theirs != mine);
  CHECK(theirs.substr(3, 32) != mine.substr(3, 32));
  CHECK(theirs.substr(36, 16) != mine.substr(36, 16));
}
