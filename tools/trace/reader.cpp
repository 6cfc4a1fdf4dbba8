// The reader keeps one buffer of chunk + max_line bytes (+ simdjson's padding): lines are cut in
// place, a partial line at the end of a chunk moves to the front before the next read, and a line
// that would outgrow the buffer is reported and skipped to its newline. So memory does not depend
// on the file's size or on its longest line.
#include "reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace gidlog_trace {

namespace {

constexpr std::size_t chunk_bytes = std::size_t{1} << 20;

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

int this_year() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return tm.tm_year + 1900;
}

// Bytes from a plain descriptor or through zlib (which reads gzip members one after another).
class byte_source {
 public:
  byte_source(int fd, bool gz) : fd_(fd) {
    if (gz) gz_ = gzdopen(::dup(fd), "rb");
  }
  ~byte_source() {
    if (gz_ != nullptr) gzclose(gz_);
  }
  // Bytes read, 0 at the end, -1 on an error (text in err).
  long read(char* to, std::size_t n, std::string& err) {
    if (gz_ != nullptr) {
      const int got = gzread(gz_, to, static_cast<unsigned>(n));
      int code = Z_OK;
      const char* what = gzerror(gz_, &code);
      // A stream cut short reads to its end, then reports Z_BUF_ERROR rather than failing.
      if (got < 0 || (got == 0 && code != Z_OK)) {
        err = what;
        return -1;
      }
      return got;
    }
    for (;;) {
      const ssize_t got = ::read(fd_, to, n);
      if (got >= 0) return static_cast<long>(got);
      if (errno == EINTR) continue;
      err = std::strerror(errno);
      return -1;
    }
  }

 private:
  int fd_;
  gzFile gz_ = nullptr;
};

}  // namespace

std::vector<std::string> expand_rotated(const std::string& path) {
  std::string base = path;  // "app.log.gz" stands for the set of app.log
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".gz") == 0) base.resize(base.size() - 3);
  // The split log_file uses: "dir/app.log" -> "dir/app" + ".log"; no dot in the name: no extension.
  const std::size_t slash = base.rfind('/');
  const std::size_t name_at = slash == std::string::npos ? 0 : slash + 1;
  const std::size_t dot = base.rfind('.');
  const std::size_t split = dot != std::string::npos && dot > name_at ? dot : base.size();
  const std::string stem = base.substr(0, split), ext = base.substr(split);
  std::vector<std::string> older;
  for (std::size_t i = 1;; ++i) {
    const std::string n = stem + '.' + std::to_string(i) + ext;
    if (exists(n)) older.push_back(n);
    else if (exists(n + ".gz")) older.push_back(n + ".gz");
    else break;
  }
  std::vector<std::string> out(older.rbegin(), older.rend());
  out.push_back(path);
  return out;
}

scanner::scanner(reader_options opt)
    : opt_(std::move(opt)), text_(opt_.pattern, opt_.year != 0 ? opt_.year : this_year()) {
  if (opt_.max_line < 64) opt_.max_line = 64;
  buf_.resize(chunk_bytes + opt_.max_line + json_parser::padding());
}

scanner::~scanner() = default;

void scanner::bad_line(std::uint64_t line_no, std::string_view why, std::string_view line) {
  ++stats_.bad;
  ++bad_in_file_;
  if (stats_.bad > opt_.max_reports) return;
  // A short, printable sample of the line, so a reader can see what it was.
  std::string sample;
  for (char c : line.substr(0, 60)) sample += static_cast<unsigned char>(c) >= 0x20 && c != 0x7f ? c : '?';
  std::fprintf(opt_.errors, "gidlog-trace: %s:%llu: %.*s, skipped%s%s%s\n", names_.back().c_str(),
               static_cast<unsigned long long>(line_no), static_cast<int>(why.size()), why.data(),
               sample.empty() ? "" : ": \"", sample.c_str(), sample.empty() ? "" : (line.size() > 60 ? "...\"" : "\""));
  if (stats_.bad == opt_.max_reports)
    std::fprintf(opt_.errors, "gidlog-trace: further bad lines are counted, not shown\n");
}

void scanner::read_one(const std::string& name, int fd, const std::function<void(const record&)>& on_record) {
  names_.push_back(name);
  input_of_.push_back(input_);
  bad_in_file_ = 0;
  const auto source = static_cast<std::uint32_t>(names_.size() - 1);
  // gzip by its magic bytes: peek with pread where the descriptor can seek, else let zlib decide
  // (it passes plain bytes through).
  unsigned char magic[2] = {0, 0};
  const bool seekable = ::pread(fd, magic, 2, 0) >= 0;
  const bool gz = seekable ? (magic[0] == 0x1f && magic[1] == 0x8b) : true;
  byte_source in(fd, gz);
  char* const buf = buf_.data();
  const std::size_t cap = chunk_bytes + opt_.max_line;
  std::size_t begin = 0, end = 0;
  std::uint64_t line_no = 0;
  bool skipping = false;  // inside a line that outgrew the buffer
  bool eof = false;
  std::string err;
  for (;;) {
    // Every complete line in [begin, end).
    while (begin < end) {
      char* nl = static_cast<char*>(std::memchr(buf + begin, '\n', end - begin));
      if (nl == nullptr) break;
      const std::size_t len = static_cast<std::size_t>(nl - (buf + begin));
      const std::string_view line(buf + begin, len);
      begin += len + 1;
      ++line_no;
      ++stats_.lines;
      if (skipping) {  // reported when it passed the limit
        skipping = false;
        continue;
      }
      rec_.clear();
      rec_.line_no = line_no;
      rec_.source = source;
      const char* why = nullptr;
      std::string_view l = line;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      std::size_t first = 0;
      while (first < l.size() && (l[first] == ' ' || l[first] == '\t')) ++first;
      if (first == l.size()) {
        bad_line(line_no, "empty line", {});
        continue;
      }
      const bool is_text = l[first] != '{';
      const bool ok = is_text ? text_.parse(l, rec_, why) : json_.parse(l, rec_, why);
      if (!ok) {
        bad_line(line_no, why, l);
        continue;
      }
      ++stats_.records;
      if (is_text) {
        ++stats_.text_records;
        if (!rec_.ctx.empty()) ++stats_.text_with_context;
      }
      on_record(rec_);
    }
    if (eof) break;
    // Keep the partial line, or drop it when it is already too long.
    const std::size_t partial = end - begin;
    if (partial >= opt_.max_line && !skipping) {
      skipping = true;
      bad_line(line_no + 1, "line longer than --max-line bytes", {buf + begin, 60});
    }
    if (skipping) {
      begin = end = 0;
    } else if (begin > 0) {
      std::memmove(buf, buf + begin, partial);
      begin = 0;
      end = partial;
    }
    const long got = in.read(buf + end, cap - end, err);
    if (got < 0) {
      std::fprintf(opt_.errors, "gidlog-trace: %s: read failed after line %llu: %s\n", name.c_str(),
                   static_cast<unsigned long long>(line_no), err.c_str());
      stats_.open_failed = true;
      break;
    }
    if (got == 0) {
      eof = true;
      if (end > begin && !skipping) {
        // The last line has no newline: a writer was cut off (or is still writing it).
        ++line_no;
        ++stats_.lines;
        bad_line(line_no, "last line has no newline (truncated)", {buf + begin, end - begin});
      } else if (skipping) {
        ++line_no;
        ++stats_.lines;
      }
      begin = end = 0;
    }
    end += static_cast<std::size_t>(got);
  }
  if (bad_in_file_ > 0 && stats_.bad > opt_.max_reports)
    std::fprintf(opt_.errors, "gidlog-trace: %s: %llu bad lines skipped\n", name.c_str(),
                 static_cast<unsigned long long>(bad_in_file_));
}

std::string scanner::process_of(const record& r) const {
  std::string p(r.process.empty() ? std::string_view(input_names_[input_of(r)]) : r.process);
  for (char& c : p)
    if (c == ' ' || c == '\t') c = '_';
  return p;
}

scan_stats scanner::run(const std::vector<std::string>& paths, const std::function<void(const record&)>& on_record) {
  std::vector<std::pair<std::string, std::uint32_t>> files;  // file, its input
  std::vector<std::string> given = paths;
  if (given.empty()) given.push_back("-");
  for (const std::string& p : given) {
    const auto input = static_cast<std::uint32_t>(input_names_.size());
    std::string base = p == "-" ? "<stdin>" : p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
    if (base.size() > 3 && base.compare(base.size() - 3, 3, ".gz") == 0) base.resize(base.size() - 3);
    input_names_.push_back(base.empty() ? p : base);
    if (p == "-" || !opt_.rotated) files.emplace_back(p, input);
    else for (std::string& f : expand_rotated(p)) files.emplace_back(std::move(f), input);
  }
  for (const auto& [f, input] : files) {
    input_ = input;
    if (f == "-") {
      read_one("<stdin>", 0, on_record);
      continue;
    }
    const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::fprintf(opt_.errors, "gidlog-trace: cannot open %s: %s\n", f.c_str(), std::strerror(errno));
      stats_.open_failed = true;
      continue;
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    read_one(f, fd, on_record);
    ::close(fd);
  }
  return stats_;
}

}  // namespace gidlog_trace
