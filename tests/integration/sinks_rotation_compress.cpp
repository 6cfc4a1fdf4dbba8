// rotation::compress, max_total_bytes and max_age (include/gidlog/sinks/rotating_file.h):
//   - through the backend: many records rotated with gzip, every record exactly once across the
//     decompressed files and the live one, in order, nothing left uncompressed or half-written
//     after stop(); json_sink compressing too;
//   - retention by max_files, max_total_bytes and max_age (mtimes set with utimensat: no waiting
//     for files to age), with and without compression; start() compressing what a crash left;
//   - crash safety: a child process SIGKILLed at each step of a compression (a test hook in the
//     compressor kills the process there), then the files checked (each rotated file whole:
//     uncompressed, or a .gz that inflates to its end) and a new start() finishing the job;
//   - the options start() rejects.
// The .gz files are read with zlib's inflate, which checks the gzip trailer (CRC and length), as
// `gzip -t` does.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "sinks_json_lines.h"

namespace {

namespace fs = std::filesystem;
using gidlog_test::temp_dir;
using namespace std::chrono_literals;

bool exists(const std::string& p) { return fs::exists(fs::symlink_status(p)); }

// The whole content of a gzip file, or nullopt when it does not inflate to the end of its stream
// with a good trailer (a truncated or corrupt .gz), with the reason in `why`.
std::optional<std::string> gunzip(const std::string& path, std::string& why) {
  const std::string in = gidlog_test::read_file(path);
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) {
    why = "inflateInit2 failed";
    return std::nullopt;
  }
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended before the stream did
  }
  const bool whole = rc == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  if (!whole) {
    why = path + ": not a whole gzip stream (inflate " + std::to_string(rc) + ", " + std::to_string(in.size()) +
          " bytes)";
    return std::nullopt;
  }
  return out;
}

// A rotating sink's files in dir, oldest first: for each number from the highest down, the
// rotated file (".gz" or not, never both), then the live file. Fails the test on anything else
// in the directory, on a number with both names, and on a .gz that is not whole.
struct file_set {
  std::vector<std::string> names;     // paths, oldest first
  std::vector<std::string> contents;  // decompressed
  std::size_t compressed = 0, plain_rotated = 0;
};

file_set read_set(const temp_dir& d, const std::string& stem, const std::string& ext) {
  file_set s;
  std::size_t n = 0;
  auto slot = [&](std::size_t i) { return d / (stem + "." + std::to_string(i) + ext); };
  while (exists(slot(n + 1)) || exists(slot(n + 1) + ".gz")) ++n;
  for (std::size_t i = n; i >= 1; --i) {
    const std::string p = slot(i);
    INFO(p);
    CHECK_FALSE((exists(p) && exists(p + ".gz")));
    if (exists(p + ".gz")) {
      std::string why;
      auto text = gunzip(p + ".gz", why);
      INFO(why);
      CHECK(text.has_value());
      s.names.push_back(p + ".gz");
      s.contents.push_back(text.value_or(""));
      ++s.compressed;
    } else {
      s.names.push_back(p);
      s.contents.push_back(gidlog_test::read_file(p));
      ++s.plain_rotated;
    }
  }
  if (exists(d / (stem + ext))) {
    s.names.push_back(d / (stem + ext));
    s.contents.push_back(gidlog_test::read_file(d / (stem + ext)));
  }
  std::vector<std::string> others;
  for (const auto& e : fs::directory_iterator(d.path)) {
    bool known = false;
    for (const auto& nm : s.names) known |= e.path().string() == nm;
    if (!known) others.push_back(e.path().filename().string());
  }
  std::string list;
  for (const auto& o : others) list += o + " ";
  INFO("other files: " << list);
  CHECK(others.empty());
  return s;
}

// The N of each "rec N" line of `text`, in order (-1 for any other line).
void append_numbers(const std::string& text, std::vector<long>& out) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    const auto at = l.rfind("rec ");
    out.push_back(at == std::string::npos ? -1 : std::atol(l.c_str() + at + 4));
  }
}

// How many of `seq` are not the next of 0, 1, 2, ...: 0 when every record is there once, in order.
// The first one out of place is reported.
long out_of_place(const std::vector<long>& seq) {
  long wrong = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    if (seq[i] != static_cast<long>(i) && wrong++ == 0) WARN("record " << i << " of " << seq.size() << " is " << seq[i]);
  }
  return wrong;
}

std::vector<long> numbers(const file_set& s) {
  std::vector<long> seq;
  for (const auto& c : s.contents) append_numbers(c, seq);
  return seq;
}

gidlog::log_line text_line(const std::string& text) {
  gidlog::log_line l{};
  l.level = gidlog::level::info;
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

void set_mtime(const std::string& path, std::time_t when) {
  const timespec t[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), t, 0) == 0);
}

std::time_t mtime_of(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mtim.tv_sec;
}

gidlog::sink_ptr gz_sink(const temp_dir& d, gidlog::rotation r) {
  r.compress = gidlog::compression::gzip;
  return gidlog::rotating_file_sink(d / "app.log", r);
}

// Options whose stop() waits for every compression however long it takes (stop_timeout 0: no
// limit), so that what the tests read after stop() does not depend on the machine's speed: on a
// loaded machine gzip at nice +10 can take longer than the default 5 s. The time limit has a test
// of its own ("stop() out of time ...").
gidlog::options compressed_at_stop() {
  gidlog::options opt;
  opt.stop_timeout = 0ms;
  return opt;
}

}  // namespace

// ---- through the backend -------------------------------------------------------------------------

// Catches: a record lost or written twice around a rotation whose file is compressed, a .gz that
// is cut short or corrupt, a rotated file left uncompressed or a .tmp left behind by stop(), the
// numbering broken by the compressor's renames racing the backend's shifts.
TEST_CASE("gzip: every record exactly once across the decompressed files, in order, nothing left after stop()",
          "[rotation][compress]") {
  temp_dir d("rotgz_all");
  const long records = gidlog_test::slow_build() ? 40'000 : 400'000;
  gidlog::options opt = compressed_at_stop();
  opt.sinks = {gz_sink(d, {.max_bytes = 256 << 10, .max_files = 1000})};
  gidlog::start(opt);
  for (long i = 0; i < records; ++i) LOG_INFO("rec {}", i);
  gidlog::stop();
  const file_set s = read_set(d, "app", ".log");
  const auto seq = numbers(s);
  std::uintmax_t gz_bytes = 0, text_bytes = 0;
  for (std::size_t i = 0; i + 1 < s.names.size(); ++i) gz_bytes += fs::file_size(s.names[i]), text_bytes += s.contents[i].size();
  WARN(records << " records, " << s.compressed << " .gz files: " << text_bytes << " bytes in " << gz_bytes);
  CHECK(s.compressed > 5);
  CHECK(s.plain_rotated == 0);
  CHECK_FALSE(exists(d / "app.log.gz.tmp"));
  CHECK(gz_bytes * 3 < text_bytes);  // it did compress
  CHECK(seq.size() == static_cast<std::size_t>(records));
  CHECK(out_of_place(seq) == 0);
  CHECK(gidlog::get_counters().sink_errors == 0);
}

TEST_CASE("json_sink with a gzip rotation: every line once, in order, in .gz files", "[rotation][compress]") {
  temp_dir d("rotgz_json");
  constexpr long records = 20'000;
  gidlog::options opt = compressed_at_stop();
  opt.sinks = {gidlog::json_sink(d / "app.jsonl", {.rotation = gidlog::rotation{.max_bytes = 64 << 10, .max_files = 1000,
                                                                                 .compress = gidlog::compression::gzip}})};
  gidlog::start(opt);
  for (long i = 0; i < records; ++i) LOG_INFO("rec {n}", i);
  gidlog::stop();
  const file_set s = read_set(d, "app", ".jsonl");
  CHECK(s.compressed > 3);
  CHECK(s.plain_rotated == 0);
  std::vector<long> seq;
  for (const auto& c : s.contents) {
    std::istringstream in(c);
    for (std::string l; std::getline(in, l);) seq.push_back(gidlog_test::scan_number(l, "n"));
  }
  CHECK(seq.size() == static_cast<std::size_t>(records));
  CHECK(out_of_place(seq) == 0);
}

// ---- retention -----------------------------------------------------------------------------------

// Catches: more than max_files kept when the run mixes .gz and plain names (a rename over the
// oldest deletes only the same name), the newest files deleted instead of the oldest.
TEST_CASE("retention: max_files with compression keeps the newest max_files, all compressed", "[rotation][compress]") {
  temp_dir d("rotgz_files");
  constexpr long records = 20'000;
  gidlog::options opt = compressed_at_stop();
  opt.sinks = {gz_sink(d, {.max_bytes = 16 << 10, .max_files = 3})};
  gidlog::start(opt);
  for (long i = 0; i < records; ++i) LOG_INFO("rec {}", i);
  gidlog::stop();
  const file_set s = read_set(d, "app", ".log");
  REQUIRE(s.names.size() == 4);  // app.3.log.gz app.2.log.gz app.1.log.gz app.log
  CHECK(s.compressed == 3);
  const auto seq = numbers(s);
  REQUIRE_FALSE(seq.empty());
  CHECK(seq.back() == records - 1);  // the newest kept, consecutive up to the last
  long gaps = 0;
  for (std::size_t i = 1; i < seq.size(); ++i) gaps += seq[i] != seq[i - 1] + 1;
  CHECK(gaps == 0);
}

// Catches: the total counted wrong (the live file in it, or not summed), the limit applied after
// keeping one file too many, deletion leaving a gap.
TEST_CASE("retention: max_total_bytes keeps the newest rotated files that fit (the live file not counted)",
          "[rotation]") {
  temp_dir d("rot_total");
  // 10-byte lines, 100-byte files: at most 250 bytes of rotated files means two of them.
  auto s = gidlog::rotating_file_sink(d / "app.log", {.max_bytes = 100, .max_files = 50, .max_total_bytes = 250});
  s->open();
  for (int i = 0; i < 75; ++i) s->write(text_line(numbered_line(i)));
  s->flush();
  CHECK(exists(d / "app.1.log"));
  CHECK(exists(d / "app.2.log"));
  CHECK_FALSE(exists(d / "app.3.log"));
  CHECK(gidlog_test::read_file(d / "app.2.log").substr(0, 10) == numbered_line(50));
  CHECK(gidlog_test::read_file(d / "app.log") == numbered_line(70) + numbered_line(71) + numbered_line(72) +
                                                     numbered_line(73) + numbered_line(74));
}

TEST_CASE("retention: max_total_bytes with compression bounds the .gz files' total", "[rotation][compress]") {
  temp_dir d("rotgz_total");
  constexpr std::uint64_t limit = 40 << 10;
  gidlog::options opt = compressed_at_stop();
  opt.sinks = {gz_sink(d, {.max_bytes = 64 << 10, .max_files = 1000, .max_total_bytes = limit})};
  gidlog::start(opt);
  for (long i = 0; i < 200'000; ++i) LOG_INFO("rec {} {}", i, i * 7919 % 100003);
  gidlog::stop();
  const file_set s = read_set(d, "app", ".log");
  std::uintmax_t total = 0;
  for (std::size_t i = 0; i + 1 < s.names.size(); ++i) total += fs::file_size(s.names[i]);
  INFO(total << " bytes in " << s.compressed << " .gz files");
  CHECK(s.compressed >= 2);  // a .gz is far below 64 KiB: several fit, where one plain file would not
  CHECK(s.plain_rotated == 0);
  CHECK(total <= limit);
  const auto seq = numbers(s);
  REQUIRE_FALSE(seq.empty());
  CHECK(seq.back() == 199'999);
}

// Two rotated files left uncompressed, three older .gz: the compressor prunes after each file it
// compresses, and while app.2.log still waits its plain size must not count (it would be over the
// limit alone, and deleted unread).
// Catches: a file waiting for the compressor judged by its uncompressed size, retention deleting
// the newest files instead of the oldest.
TEST_CASE("retention: a rotated file waiting for gzip is not deleted for its uncompressed size", "[rotation][compress]") {
  temp_dir d("rotgz_waiting");
  auto block = [](long from) {  // ~64 KiB of "rec N" lines, from `from` on
    std::string t;
    for (long i = from; t.size() < (64u << 10); ++i) t += "rec " + std::to_string(i) + "\n";
    return t;
  };
  // Oldest first: app.5.log.gz .. app.3.log.gz, then app.2.log and app.1.log plain.
  const long first[] = {100'000, 200'000, 300'000, 400'000, 500'000};  // lines of one length
  for (int k = 0; k < 5; ++k) {
    const std::string plain = d / ("app." + std::to_string(5 - k) + ".log");
    std::ofstream(plain) << block(first[k]);
    if (k < 3) REQUIRE(std::system(("gzip -n " + plain).c_str()) == 0);
  }
  const std::uintmax_t one_gz = fs::file_size(d / "app.5.log.gz");
  REQUIRE(one_gz < (16u << 10));
  gidlog::options opt = compressed_at_stop();
  // Room for two .gz files and a half, far less than one plain file.
  const std::uint64_t limit = one_gz * 5 / 2;
  opt.sinks = {gz_sink(d, {.max_bytes = 1 << 20, .max_files = 100, .max_total_bytes = limit})};
  gidlog::start(opt);
  gidlog::stop();
  const file_set s = read_set(d, "app", ".log");
  INFO("limit " << limit << ", one .gz " << one_gz);
  REQUIRE(s.names.size() == 3);  // app.2.log.gz app.1.log.gz app.log
  CHECK(s.compressed == 2);
  CHECK(numbers(s).front() == 400'000);  // the two newest, whole
  CHECK(s.contents[0] == block(400'000));
  CHECK(s.contents[1] == block(500'000));
}

// Catches: age judged by the name instead of the mtime, files younger than max_age deleted, a
// gap left in the run.
TEST_CASE("retention: max_age deletes the rotated files last written longer ago, oldest first", "[rotation]") {
  temp_dir d("rot_age");
  auto s = gidlog::rotating_file_sink(d / "app.log", {.max_bytes = 100, .max_files = 10, .max_age = 24h});
  s->open();
  for (int i = 0; i < 40; ++i) s->write(text_line(numbered_line(i)));  // app.3 .. app.1 + live
  s->flush();
  REQUIRE(exists(d / "app.3.log"));
  const std::time_t now = std::time(nullptr);
  set_mtime(d / "app.3.log", now - 3 * 86400);
  set_mtime(d / "app.2.log", now - 2 * 86400);
  set_mtime(d / "app.1.log", now - 3600);  // one hour: kept
  for (int i = 40; i < 50; ++i) s->write(text_line(numbered_line(i)));  // rotates: the old ones are now 3 and 4
  s->flush();
  CHECK(exists(d / "app.1.log"));
  CHECK(exists(d / "app.2.log"));
  CHECK_FALSE(exists(d / "app.3.log"));
  CHECK_FALSE(exists(d / "app.4.log"));
  CHECK(gidlog_test::read_file(d / "app.2.log").substr(0, 10) == numbered_line(20));
}

// What a crash (or a rotation after stop()) leaves: rotated files not compressed. start()
// compresses them off the caller's thread, the .gz keep the files' mtimes, and max_age goes by them.
TEST_CASE("start() compresses rotated files left uncompressed, keeping their mtimes, and max_age deletes the old ones",
          "[rotation][compress]") {
  temp_dir d("rotgz_recover");
  const std::time_t now = std::time(nullptr);
  for (int i = 1; i <= 4; ++i) {
    std::ofstream(d / ("app." + std::to_string(i) + ".log")) << "rec " << (4 - i) << "\n";
    set_mtime(d / ("app." + std::to_string(i) + ".log"), now - (i <= 2 ? 60 * i : 10 * 86400));
  }
  { std::ofstream(d / "app.log.gz.tmp") << "half a gzip"; }  // a compression a kill cut short
  gidlog::options opt = compressed_at_stop();
  opt.sinks = {gz_sink(d, {.max_bytes = 1 << 20, .max_age = 7 * 24h})};
  gidlog::start(opt);
  LOG_INFO("rec {}", 4);
  gidlog::stop();
  const file_set s = read_set(d, "app", ".log");  // no .tmp, app.3 and app.4 gone (10 days old)
  REQUIRE(s.names.size() == 3);
  CHECK(s.compressed == 2);
  CHECK(mtime_of(d / "app.1.log.gz") == now - 60);
  CHECK(mtime_of(d / "app.2.log.gz") == now - 120);
  const auto seq = numbers(s);
  CHECK(seq == std::vector<long>{2, 3, 4});
}

// stop() waits for the compressions at most options::stop_timeout: one cut short deletes its
// .tmp and leaves its file uncompressed, and the next start() compresses it.
// Catches: stop() hanging on a long compression, a .tmp or a half .gz left by the cancel.
TEST_CASE("stop() out of time cancels the compression under way, and the next start() finishes it",
          "[rotation][compress]") {
  temp_dir d("rotgz_cancel");
  std::string big;
  for (long i = 0; big.size() < (24u << 20); ++i) big += "rec " + std::to_string(i * 2654435761u % 1000003) + "\n";
  for (int i = 1; i <= 3; ++i) std::ofstream(d / ("app." + std::to_string(i) + ".log")) << big;
  gidlog::options opt = compressed_at_stop();
  opt.stop_timeout = 1ms;
  opt.sinks = {gz_sink(d, {.max_bytes = 1 << 30})};
  gidlog::start(opt);
  const auto t0 = std::chrono::steady_clock::now();
  gidlog::stop();
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited < 2s);  // one 256 KiB chunk after the cancel, not 72 MiB of gzip
  {
    const file_set s = read_set(d, "app", ".log");  // no .tmp; each file whole, plain or .gz
    CHECK(s.plain_rotated >= 1);
    for (std::size_t i = 0; i + 1 < s.contents.size(); ++i) CHECK((s.contents[i] == big));
  }
  opt.stop_timeout = 0ms;  // no limit
  gidlog::start(opt);
  gidlog::stop();
  const file_set s = read_set(d, "app", ".log");
  CHECK(s.compressed == 3);
  for (std::size_t i = 0; i + 1 < s.contents.size(); ++i) CHECK((s.contents[i] == big));
}

// ---- crash safety --------------------------------------------------------------------------------

namespace {

// The child: logs with gzip rotation until the compressor's test hook (GIDLOG_TEST_COMPRESS_KILL_AT)
// SIGKILLs it in its first compression. Exits 0 only if the hook never fired.
GIDLOG_CHILD_SCENARIO(log_until_killed) {
  const std::string dir = gidlog_test::child_env("ROTGZ_DIR");
  gidlog::options opt = compressed_at_stop();
  opt.sinks = {gidlog::rotating_file_sink(dir + "/app.log", {.max_bytes = 256 << 10, .max_files = 1000,
                                                            .compress = gidlog::compression::gzip})};
  gidlog::start(opt);
  for (long i = 0; i < 2'000'000; ++i) LOG_INFO("rec {}", i);
  gidlog::stop();
  return 0;
}

}  // namespace

// Catches: a .gz renamed into place before it was whole, the uncompressed file deleted before the
// .gz was in place, a .tmp or a duplicate (both names) left for ever, a record lost or doubled by
// the recovery.
TEST_CASE("a kill at each step of a compression leaves every rotated file whole, and the next start() finishes the job",
          "[rotation][compress]") {
  for (const char* step : {"partial", "synced", "renamed"}) {
    SECTION(step) {
      temp_dir d(std::string("rotgz_kill_") + step);
      const auto r = gidlog_test::run_child(
          "log_until_killed", {.env = {"ROTGZ_DIR=" + d.path, std::string("GIDLOG_TEST_COMPRESS_KILL_AT=") + step}});
      INFO(r.describe());
      REQUIRE(r.killed_by(SIGKILL));
      // Where the kill left the first compression.
      const bool tmp = exists(d / "app.log.gz.tmp");
      std::size_t both = 0;
      for (std::size_t i = 1; exists(d / ("app." + std::to_string(i) + ".log")) ||
                              exists(d / ("app." + std::to_string(i) + ".log.gz"));
           ++i)
        both += exists(d / ("app." + std::to_string(i) + ".log")) && exists(d / ("app." + std::to_string(i) + ".log.gz"));
      if (std::string(step) == "renamed") {
        CHECK(both == 1);  // the .gz in place, the uncompressed file not yet deleted
        CHECK_FALSE(tmp);
      } else {
        CHECK(both == 0);
        CHECK(tmp);  // partial: half written; synced: whole but not yet renamed
      }
      // Every rotated file whole: each number's file, plain or .gz, holds consecutive records.
      std::vector<long> seq;
      for (std::size_t i = 200; i >= 1; --i) {
        const std::string p = d / ("app." + std::to_string(i) + ".log");
        if (exists(p + ".gz")) {
          std::string why;
          auto text = gunzip(p + ".gz", why);
          INFO(why);
          REQUIRE(text.has_value());
          if (!exists(p)) append_numbers(*text, seq);
          else CHECK(*text == gidlog_test::read_file(p));  // both names: the same bytes
        }
        if (exists(p)) append_numbers(gidlog_test::read_file(p), seq);
      }
      // The live file: a kill in the middle of a write(2) may cut its last line (not the
      // compressor's business: the lines of the rotated files were all written before it started).
      std::string live = gidlog_test::read_file(d / "app.log");
      live.resize(live.rfind('\n') == std::string::npos ? 0 : live.rfind('\n') + 1);
      append_numbers(live, seq);
      REQUIRE(seq.size() > 2000);
      CHECK(out_of_place(seq) == 0);

      // A new start() with the same sink: the .tmp deleted, every rotated file compressed once.
      // The kill may also have caught the backend in the middle of a shift, leaving a gap in the
      // numbers (as before compression existed), which the next rotation closes: the record
      // logged here rotates the live file (max_bytes 1), its cut last line taken off first.
      if (exists(d / "app.log")) fs::resize_file(d / "app.log", live.size());  // killed between rename and open: none
      gidlog::options opt = compressed_at_stop();
      opt.sinks = {gz_sink(d, {.max_bytes = 1, .max_files = 1000})};
      gidlog::start(opt);
      LOG_INFO("rec {}", seq.size());
      gidlog::stop();
      const file_set s = read_set(d, "app", ".log");
      CHECK(s.plain_rotated == 0);
      CHECK(s.compressed >= (live.empty() ? 1u : 2u));  // an empty live file does not rotate
      const auto after = numbers(s);
      CHECK(after.size() == seq.size() + 1);
      CHECK(out_of_place(after) == 0);
      CHECK(gidlog::get_counters().sink_errors == 0);
    }
  }
}

// ---- options -------------------------------------------------------------------------------------

TEST_CASE("start() rejects invalid compression and retention fields, naming the sink and the field",
          "[rotation][compress]") {
  temp_dir d("rotgz_invalid");
  struct bad {
    gidlog::sink_ptr sink;
    const char* says;
  };
  const bad cases[] = {
      {gidlog::rotating_file_sink(d / "a.log", {.max_bytes = 1, .max_age = -1s}), "rotating_file_sink: rotation.max_age"},
      {gidlog::rotating_file_sink(d / "a.log", {.max_bytes = 1000, .max_total_bytes = 999}),
       "rotation.max_total_bytes"},
      {gidlog::rotating_file_sink(d / "a.log", {.max_bytes = 1, .compress = static_cast<gidlog::compression>(9)}),
       "rotation.compress"},
      {gidlog::json_sink(d / "a.jsonl", {.rotation = gidlog::rotation{.max_bytes = 1, .max_age = -5min}}),
       "json_sink: json_sink_options::rotation.max_age"},
  };
  for (const auto& c : cases) {
    const std::string what = gidlog_test::start_rejection(c.sink);
    INFO(what);
    CHECK(what.find("gidlog::options::sinks[1]") != std::string::npos);
    CHECK(what.find(c.says) != std::string::npos);
  }
  // With compression a total below max_bytes is fine: the .gz files are smaller.
  gidlog::options opt = compressed_at_stop();
  opt.sinks = {gz_sink(d, {.max_bytes = 1000, .max_total_bytes = 999})};
  CHECK_NOTHROW(gidlog::start(opt));
  gidlog::stop();
  CHECK_FALSE(gidlog::running());
}
