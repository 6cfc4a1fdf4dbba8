// rotating_file_sink and json_sink with a rotation. Two kinds of tests:
//   - the sink alone, fed hand-built lines (no backend): exact sizes, names and pruning, daily
//     rotation driven by the lines' time stamps (the clock the sink goes by: no waiting for a
//     day), a rename that fails and is retried, a file someone else moved;
//   - through the backend: 1 M records with max_bytes 1 MiB, every record exactly once across the
//     kept files and in order; a reader following the file by name (tail -F) across rotations,
//     with the fd it holds reading each old file to its end; json_sink with a rotation; and the
//     options start() rejects.
#include <catch2/catch.hpp>

#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "log_capture.h"
#include "sinks_json_lines.h"

namespace {

namespace fs = std::filesystem;
using gidlog_test::temp_dir;
using namespace std::chrono_literals;

// The files of a rotating sink writing dir/stem+ext, oldest first: stem.N+ext ... stem.1+ext,
// stem+ext. Fails the test when the directory holds any other file.
std::vector<std::string> files_oldest_first(const temp_dir& d, const std::string& stem, const std::string& ext) {
  std::vector<std::string> out;
  std::size_t n = 0;
  while (fs::exists(d / (stem + "." + std::to_string(n + 1) + ext))) ++n;
  for (std::size_t i = n; i >= 1; --i) out.push_back(d / (stem + "." + std::to_string(i) + ext));
  if (fs::exists(d / (stem + ext))) out.push_back(d / (stem + ext));
  std::size_t in_dir = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path)) ++in_dir;
  CHECK(in_dir == out.size());
  return out;
}

gidlog::log_line text_line(const std::string& text, std::int64_t time_ns = 0) {
  gidlog::log_line l{};
  l.level = gidlog::level::info;
  l.time_ns = time_ns;
  l.text = text;
  l.message = text;
  return l;
}

// "line 0007\n": 10 bytes.
std::string numbered_line(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "line %04d\n", i);
  return b;
}

// N of a line "[...] rec N"; -1 for any other line.
long record_number(const std::string& line) {
  const auto at = line.rfind("] rec ");
  return at == std::string::npos ? -1 : std::atol(line.c_str() + at + 6);
}

// The record numbers of a file's lines, in file order.
void append_numbers(const std::string& path, std::vector<long>& out) {
  for (const auto& l : gidlog_test::read_lines(path)) {
    out.push_back(record_number(l));
  }
}

// How many of `seq` are not the next of 0, 1, 2, ...: 0 when every record is there once, in order.
long out_of_place(const std::vector<long>& seq) {
  long wrong = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) wrong += seq[i] != static_cast<long>(i);
  return wrong;
}

}  // namespace

// ---- the sink alone ------------------------------------------------------------------------------

// Catches: a file that grows past max_bytes (rotating after the line instead of before), a file
// rotated early, wrong names or order, the oldest not deleted, more than max_files kept.
TEST_CASE("rotation by size: full files of whole lines, numbered newest first, the oldest deleted", "[rotation]") {
  temp_dir d("rot_size");
  auto s = gidlog::rotating_file_sink(d / "app.log", {.max_bytes = 100, .max_files = 3});
  s->open();
  for (int i = 0; i < 50; ++i) s->write(text_line(numbered_line(i)));
  s->flush();
  const auto files = files_oldest_first(d, "app", ".log");
  REQUIRE(files.size() == 4);  // app.3.log app.2.log app.1.log app.log
  // 50 lines of 10 bytes, 10 to a file: 4 rotations; lines 0-9 were in the file deleted.
  int next = 10;
  for (const auto& f : files) {
    INFO(f);
    CHECK(fs::file_size(f) == 100);
    for (const auto& l : gidlog_test::read_lines(f)) CHECK(l + "\n" == numbered_line(next++));
  }
  CHECK(next == 50);
}

// Catches: a long line split, or rotated again and again, or rotating an empty file.
TEST_CASE("rotation by size: a line longer than max_bytes goes into a file of its own", "[rotation]") {
  temp_dir d("rot_long");
  auto s = gidlog::rotating_file_sink(d / "app", {.max_bytes = 20, .max_files = 10});
  s->open();
  const std::string long_line = std::string(45, 'L') + "\n";
  s->write(text_line(long_line));  // into the empty live file
  s->write(text_line(numbered_line(1)));
  s->write(text_line(long_line));
  s->write(text_line(long_line));
  s->write(text_line(numbered_line(2)));
  s->write(text_line(numbered_line(3)));
  s->flush();
  const auto files = files_oldest_first(d, "app", "");  // no extension: app.1, app.2, ...
  REQUIRE(files.size() == 5);
  CHECK(gidlog_test::read_file(files[0]) == long_line);
  CHECK(gidlog_test::read_file(files[1]) == numbered_line(1));
  CHECK(gidlog_test::read_file(files[2]) == long_line);
  CHECK(gidlog_test::read_file(files[3]) == long_line);
  CHECK(gidlog_test::read_file(files[4]) == numbered_line(2) + numbered_line(3));
}

namespace {

// A time zone without daylight saving time, 5 h 30 min east of UTC (POSIX TZ: the offset's sign
// is reversed), so a local boundary is not a UTC one.
constexpr std::int64_t tz_offset_s = 5 * 3600 + 30 * 60;
constexpr std::int64_t day_s = 86400;
constexpr std::int64_t ns = 1'000'000'000;

// The first local 03:00 after `t_ns` in that zone, worked out without the C library.
std::int64_t next_3am_local(std::int64_t t_ns) {
  const std::int64_t local = t_ns / ns + tz_offset_s - 3 * 3600;
  return ((local / day_s + 1) * day_s + 3 * 3600 - tz_offset_s) * ns;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void use_test_time_zone() {
  ::setenv("TZ", "IST-5:30", 1);
  ::tzset();
}

}  // namespace

// Catches: a boundary in UTC instead of local time, a record stamped exactly at the boundary left
// in the old file, a day skipped or rotated twice, an empty file rotated, a rotation by the wall
// clock instead of by the records' stamps.
TEST_CASE("rotation daily at a local time: by the records' time stamps, once per boundary crossed", "[rotation]") {
  use_test_time_zone();
  temp_dir d("rot_daily");
  auto s = gidlog::rotating_file_sink(d / "app.log", {.max_files = 10, .daily_at = std::chrono::hours{3}});
  s->open();
  const std::int64_t t0 = now_ns(), b1 = next_3am_local(t0), b2 = b1 + day_s * ns;
  s->write(text_line("a0\n", t0));
  s->write(text_line("a1\n", b1 - 1));  // the last nanosecond before 03:00
  s->write(text_line("b0\n", b1));      // 03:00:00.000000000: the new day's file
  s->write(text_line("b1\n", b1 + 3600 * ns));
  s->write(text_line("c0\n", b2 + 5 * ns));
  s->write(text_line("d0\n", b2 + 3 * day_s * ns));  // three boundaries later: one rotation
  s->write(text_line("d1\n", b2 + 3 * day_s * ns + 1));
  s->flush();
  const auto files = files_oldest_first(d, "app", ".log");
  REQUIRE(files.size() == 4);
  CHECK(gidlog_test::read_file(files[0]) == "a0\na1\n");
  CHECK(gidlog_test::read_file(files[1]) == "b0\nb1\n");
  CHECK(gidlog_test::read_file(files[2]) == "c0\n");
  CHECK(gidlog_test::read_file(files[3]) == "d0\nd1\n");
}

TEST_CASE("rotation daily: a boundary passed while the file is empty rotates nothing", "[rotation]") {
  use_test_time_zone();
  temp_dir d("rot_daily_empty");
  auto s = gidlog::rotating_file_sink(d / "app.log", {.daily_at = std::chrono::minutes{90}});
  s->open();
  const std::int64_t later = now_ns() + 3 * day_s * ns;
  s->write(text_line("x\n", later));
  s->write(text_line("y\n", later + 1));
  s->flush();
  const auto files = files_oldest_first(d, "app", ".log");
  REQUIRE(files.size() == 1);
  CHECK(gidlog_test::read_file(files[0]) == "x\ny\n");
}

// Catches: a file left from an earlier day kept growing with today's records.
TEST_CASE("rotation daily: a file last written before the latest boundary is rotated before the first record",
          "[rotation]") {
  use_test_time_zone();
  temp_dir d("rot_daily_stale");
  {
    std::FILE* f = std::fopen((d / "app.log").c_str(), "w");
    std::fputs("yesterday\n", f);
    std::fclose(f);
    const timespec two_days_ago[2] = {{std::time(nullptr) - 2 * day_s, 0}, {std::time(nullptr) - 2 * day_s, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (d / "app.log").c_str(), two_days_ago, 0) == 0);
  }
  {
    std::FILE* f = std::fopen((d / "fresh.log").c_str(), "w");
    std::fputs("today\n", f);
    std::fclose(f);
  }
  auto stale = gidlog::rotating_file_sink(d / "app.log", {.daily_at = std::chrono::hours{3}});
  auto fresh = gidlog::rotating_file_sink(d / "fresh.log", {.daily_at = std::chrono::hours{3}});
  stale->open();
  fresh->open();
  stale->write(text_line("now\n", now_ns()));
  fresh->write(text_line("now\n", now_ns()));
  stale->flush();
  fresh->flush();
  CHECK(gidlog_test::read_file(d / "app.1.log") == "yesterday\n");
  CHECK(gidlog_test::read_file(d / "app.log") == "now\n");
  CHECK(gidlog_test::read_file(d / "fresh.log") == "today\nnow\n");  // written today: not rotated
  CHECK_FALSE(fs::exists(d / "fresh.1.log"));
}

// Catches: a failed rename that loses the line or the buffered bytes, a retry that rotates twice
// or leaves the files out of order.
TEST_CASE("rotation: a rename that fails is thrown from write(), the line is not taken, the retry completes",
          "[rotation]") {
  temp_dir d("rot_rename_fails");
  auto s = gidlog::rotating_file_sink(d / "app.log", {.max_bytes = 30, .max_files = 1});
  s->open();
  // app.1.log is a directory that is not empty: renaming app.log over it fails (EISDIR).
  fs::create_directories(d / "app.1.log/x");
  for (int i = 0; i < 3; ++i) s->write(text_line(numbered_line(i)));  // 30 bytes, some buffered
  CHECK_THROWS_AS(s->write(text_line(numbered_line(3))), std::system_error);
  CHECK_THROWS_AS(s->write(text_line(numbered_line(3))), std::system_error);  // the writer's retry
  // The bytes taken before are in the old file already, the refused line nowhere.
  CHECK(gidlog_test::read_file(d / "app.log") == numbered_line(0) + numbered_line(1) + numbered_line(2));
  fs::remove_all(d / "app.1.log");
  s->write(text_line(numbered_line(3)));
  s->write(text_line(numbered_line(4)));
  s->flush();
  const auto files = files_oldest_first(d, "app", ".log");
  REQUIRE(files.size() == 2);
  CHECK(gidlog_test::read_file(files[0]) == numbered_line(0) + numbered_line(1) + numbered_line(2));
  CHECK(gidlog_test::read_file(files[1]) == numbered_line(3) + numbered_line(4));
}

// Catches: rotating a file another process (or logrotate) already moved away: renaming the new
// file that the path names would push the other writer's file down the numbers.
TEST_CASE("rotation: a file someone else moved away is not rotated again, the path is opened anew", "[rotation]") {
  temp_dir d("rot_moved");
  auto s = gidlog::rotating_file_sink(d / "app.log", {.max_bytes = 30, .max_files = 5});
  s->open();
  for (int i = 0; i < 2; ++i) s->write(text_line(numbered_line(i)));
  s->flush();
  fs::rename(d / "app.log", d / "elsewhere.log");
  s->write(text_line(numbered_line(2)));  // buffered; finishes the moved file
  s->write(text_line(numbered_line(3)));  // would pass max_bytes: rotation due, the path is not ours
  s->flush();
  CHECK(gidlog_test::read_file(d / "elsewhere.log") == numbered_line(0) + numbered_line(1) + numbered_line(2));
  CHECK(gidlog_test::read_file(d / "app.log") == numbered_line(3));
  CHECK_FALSE(fs::exists(d / "app.1.log"));
}

// ---- through the backend ---------------------------------------------------------------------------

// The figure: 1 M records, max_bytes 1 MiB. Catches: a record lost or written twice at a
// rotation (buffered bytes dropped, or written to the new file after newer ones), files over the
// limit, files pruned although max_files keeps them.
TEST_CASE("1 M records rotated at 1 MiB: every record exactly once across the files, in order", "[rotation]") {
  temp_dir d("rot_million");
  constexpr long records = 1'000'000;
  constexpr std::uint64_t max_bytes = 1 << 20;
  gidlog::options opt;
  opt.sinks = {gidlog::rotating_file_sink(d / "app.log", {.max_bytes = max_bytes, .max_files = 1000})};
  const auto t0 = std::chrono::steady_clock::now();
  gidlog::start(opt);
  for (long i = 0; i < records; ++i) LOG_INFO("rec {}", i);
  gidlog::stop();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto files = files_oldest_first(d, "app", ".log");
  std::vector<long> seq;
  seq.reserve(records);
  std::uintmax_t bytes = 0;
  std::size_t over = 0, short_of_full = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    append_numbers(files[i], seq);
    const auto size = fs::file_size(files[i]);
    bytes += size;
    over += size > max_bytes;
    // A rotated file is full up to one line (lines are ~50 bytes here).
    short_of_full += i + 1 < files.size() && size + 100 < max_bytes;
  }
  WARN(records << " records in " << secs << " s, " << files.size() << " files, " << bytes << " bytes");
  CHECK(files.size() > 40);
  CHECK(over == 0);
  CHECK(short_of_full == 0);
  CHECK(seq.size() == static_cast<std::size_t>(records));
  CHECK(out_of_place(seq) == 0);
  CHECK(gidlog::get_counters().sink_errors == 0);
}

// tail -F: a reader holds the live file open; when the path names another file, it reads the one
// it holds to the end, then opens the path. The logger waits for the reader after each burst of
// records (a burst is less than half a file), so the reader never falls a whole file behind.
// Catches: bytes of the old file written after the rename (the reader has moved on: lost to it),
// truncation or copying instead of a rename, records landing in a file nobody follows.
TEST_CASE("a reader following the path (tail -F) reads every record once across rotations", "[rotation]") {
  temp_dir d("rot_follow");
  const std::string path = d / "app.log";
  constexpr long records = 200'000, burst = 2000;
  gidlog::options opt;
  opt.sinks = {gidlog::rotating_file_sink(path, {.max_bytes = 256 << 10, .max_files = 1000}, {.buffer_bytes = 4096})};
  gidlog::start(opt);
  std::atomic<long> lines_read{0};
  std::atomic<bool> done{false}, reader_lost{false};
  std::thread logger([&] {
    for (long i = 0; i < records && !reader_lost.load();) {
      for (long end = i + burst; i < end; ++i) LOG_INFO("rec {}", i);
      gidlog::flush();
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (lines_read.load() < i && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100us);
      if (lines_read.load() < i) reader_lost.store(true);
    }
    done.store(true, std::memory_order_release);
  });

  std::string seen;  // everything the reader read, in order
  int fd = -1;
  while (fd < 0) fd = ::open(path.c_str(), O_RDONLY);
  const int first_fd = ::dup(fd);  // held to the end: still reads the first file, now renamed
  int switches = 0;
  std::vector<char> buf(1 << 16);
  auto read_to_end = [&](int from) {
    ssize_t n;
    while ((n = ::read(from, buf.data(), buf.size())) > 0) {
      seen.append(buf.data(), static_cast<std::size_t>(n));
      lines_read.fetch_add(std::count(buf.data(), buf.data() + n, '\n'));
    }
  };
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);  // before the read that sees it all
    read_to_end(fd);
    struct stat ours, at_path;
    ::fstat(fd, &ours);
    if (::stat(path.c_str(), &at_path) == 0 && at_path.st_ino != ours.st_ino) {
      read_to_end(fd);  // the old file, to its end
      ::close(fd);
      fd = ::open(path.c_str(), O_RDONLY);
      if (fd < 0) break;
      ++switches;
      continue;
    }
    if (finished) break;
    std::this_thread::sleep_for(100us);
  }
  if (fd >= 0) ::close(fd);
  logger.join();
  gidlog::stop();
  CHECK_FALSE(reader_lost.load());

  std::string first_file;
  ssize_t n;
  ::lseek(first_fd, 0, SEEK_SET);  // dup() shares the offset the reader moved
  while ((n = ::read(first_fd, buf.data(), buf.size())) > 0) first_file.append(buf.data(), static_cast<std::size_t>(n));
  ::close(first_fd);
  const auto files = files_oldest_first(d, "app", ".log");
  REQUIRE(files.size() > 3);
  CHECK(first_file == gidlog_test::read_file(files.front()));  // the held fd: the oldest file, whole
  CHECK(switches == static_cast<int>(files.size()) - 1);

  std::vector<long> seq;
  std::istringstream lines(seen);
  for (std::string l; std::getline(lines, l);) seq.push_back(record_number(l));
  INFO(files.size() << " files, " << switches << " switches");
  CHECK(seq.size() == static_cast<std::size_t>(records));
  CHECK(out_of_place(seq) == 0);
}

// The backend's side of a failing rotation. Catches: records lost while the rename fails (the
// sink must throw so the writer keeps them), a retry that does not rotate, records written twice.
TEST_CASE("a rotation failing while records are logged: the backend keeps them, every one arrives once, in order",
          "[rotation]") {
  temp_dir d("rot_backend_fails");
  constexpr long records = 1500;  // ~80 KiB: one rotation at 64 KiB
  gidlog::options opt;
  opt.sinks = {gidlog::rotating_file_sink(d / "app.log", {.max_bytes = 64 << 10, .max_files = 1})};
  std::atomic<int> errors{0};
  opt.error_handler = [&](std::string_view) { errors.fetch_add(1); };
  fs::create_directories(d / "app.1.log/x");  // renaming app.log over a non-empty directory fails
  gidlog::start(opt);
  for (long i = 0; i < records; ++i) LOG_INFO("rec {}", i);
  gidlog::flush();
  const auto failing = gidlog::get_counters().sink_errors;
  const auto live_size = fs::file_size(d / "app.log");
  fs::remove_all(d / "app.1.log");
  gidlog::flush();  // retries the kept lines now: the rotation goes through
  gidlog::stop();
  CHECK(failing > 0);
  CHECK(errors.load() > 0);
  CHECK(live_size <= (64u << 10));
  CHECK(gidlog::get_counters().sink_dropped == 0);
  const auto files = files_oldest_first(d, "app", ".log");
  REQUIRE(files.size() == 2);
  std::vector<long> seq;
  for (const auto& f : files) append_numbers(f, seq);
  CHECK(seq.size() == static_cast<std::size_t>(records));
  CHECK(out_of_place(seq) == 0);
}

// Catches: json_sink_options::rotation ignored, a JSON line split across files, lines lost.
TEST_CASE("json_sink with a rotation: every line parses, every record once, in order", "[rotation][json]") {
  temp_dir d("rot_json");
  constexpr long records = 100'000;
  gidlog::options opt;
  opt.sinks = {gidlog::json_sink(d / "app.jsonl", {.rotation = gidlog::rotation{.max_bytes = 1 << 20, .max_files = 100}})};
  gidlog::start(opt);
  for (long i = 0; i < records; ++i) LOG_INFO("rec {} of {}", i, "json");
  gidlog::stop();
  const auto files = files_oldest_first(d, "app", ".jsonl");
  REQUIRE(files.size() > 3);
  std::vector<long> seq;
  std::size_t unparsed = 0, k = 0;
  const std::size_t stride = gidlog_test::parse_stride();
  gidlog_test::flat_json_line j;
  for (const auto& f : files) {
    CHECK(fs::file_size(f) <= (1u << 20));
    for (const auto& l : gidlog_test::read_lines(f)) {
      long n = -1;
      if (k++ % stride == 0) {
        const std::string* msg = j.parse(l) ? j.get("msg") : nullptr;
        if (msg == nullptr || std::sscanf(msg->c_str(), "rec %ld", &n) != 1) ++unparsed;
      } else {
        n = gidlog_test::scan_number(l, "arg0");
      }
      seq.push_back(n);
    }
  }
  CHECK(unparsed == 0);
  CHECK(seq.size() == static_cast<std::size_t>(records));
  CHECK(out_of_place(seq) == 0);
}

// Catches: an invalid rotation accepted (silently never rotating, or deleting every file), an
// error that does not say which sink and which field.
TEST_CASE("start() rejects an invalid rotation, naming the sink and the field", "[rotation]") {
  temp_dir d("rot_invalid");
  { std::ofstream(d / "plain_file") << "x"; }  // a parent that is a file: no directory can be made under it
  struct bad {
    gidlog::sink_ptr sink;
    const char* says;
  };
  const bad cases[] = {
      {gidlog::rotating_file_sink(d / "a.log", {}), "rotation: neither max_bytes nor daily_at"},
      {gidlog::rotating_file_sink(d / "a.log", {.max_bytes = 1, .max_files = 0}), "rotation.max_files"},
      {gidlog::rotating_file_sink(d / "a.log", {.max_bytes = 1, .max_files = 100001}), "rotation.max_files"},
      {gidlog::rotating_file_sink(d / "a.log", {.daily_at = std::chrono::hours{24}}), "rotation.daily_at"},
      {gidlog::rotating_file_sink(d / "a.log", {.daily_at = std::chrono::minutes{-1}}), "rotation.daily_at"},
      {gidlog::rotating_file_sink("", {.max_bytes = 1}), "the path is empty"},
      {gidlog::rotating_file_sink(d / "plain_file/dir/a.log", {.max_bytes = 1}), "cannot open"},
      {gidlog::json_sink(d / "a.jsonl", {.rotation = gidlog::rotation{.max_bytes = 1, .max_files = 0}}),
       "json_sink: json_sink_options::rotation.max_files"},
      {gidlog::json_sink(d / "a.jsonl", {.file = {.buffer_bytes = 0}}), "json_sink: buffer_bytes"},
  };
  for (const auto& c : cases) {
    const std::string what = gidlog_test::start_rejection(c.sink);
    INFO(what);
    CHECK(what.find("gidlog::options::sinks[1]") != std::string::npos);
    CHECK(what.find(c.says) != std::string::npos);
  }
  CHECK_FALSE(gidlog::running());
}
