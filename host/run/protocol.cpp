#include "run/protocol.hpp"

#include "util/base64.hpp"

#include <cerrno>
#include <cstdlib>
#include <fmt/format.h>
#include <unistd.h>
#include <vector>

namespace gantry {

namespace {

// Messages may hold any text: tabs, newlines and backslashes are escaped.
std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view line, size_t max_fields) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_fields) {
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) break;
    out.push_back(line.substr(0, tab));
    line.remove_prefix(tab + 1);
  }
  out.push_back(line);
  return out;
}

bool to_int(std::string_view s, int64_t& out) {
  const std::string str(s);
  char* end = nullptr;
  out = std::strtoll(str.c_str(), &end, 10);
  return !str.empty() && *end == '\0';
}

bool to_double(std::string_view s, double& out) {
  const std::string str(s);
  char* end = nullptr;
  out = std::strtod(str.c_str(), &end);  // reads "nan" and "inf" too
  return !str.empty() && *end == '\0';
}

// One formatter per event type, shared by the worker's sink and by event_line (which MPI ranks
// use to forward events they parsed): a line means the same whichever process wrote it.
std::string metric_line(int64_t step, std::string_view key, double value) {
  return fmt::format("M\t{}\t{}\t{}\n", step, escape(key), value);
}
std::string progress_line(int64_t step, int64_t steps, double d_loss, double g_loss) {
  return fmt::format("P\t{}\t{}\t{}\t{}\n", step, steps, d_loss, g_loss);
}
std::string result_line(const TrialResult& r) {
  return fmt::format("R\t{}\t{}\t{}\t{}\t{}\n", static_cast<int>(r.outcome), r.step, r.d_updates, r.g_updates,
                     escape(r.message));
}
std::string artifact_line(int64_t step, std::string_view kind, std::string_view mime, std::string_view bytes) {
  return fmt::format("A\t{}\t{}\t{}\t{}\n", step, escape(kind), escape(mime), base64_encode(bytes));
}
std::string note_line(std::string_view key, std::string_view value) {
  return fmt::format("N\t{}\t{}\n", escape(key), escape(value));
}
std::string checkpoint_line(int64_t step, uint64_t bytes, std::string_view sha256) {
  return fmt::format("C\t{}\t{}\t{}\n", step, bytes, escape(sha256));
}
std::string resumed_line(int64_t step, std::string_view message) {
  return fmt::format("S\t{}\t{}\n", step, escape(message));
}
std::string error_line(std::string_view message) { return fmt::format("E\t{}\n", escape(message)); }

}  // namespace

void PipeSink::send(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::_Exit(4);  // the parent is gone: nobody will record what we compute
    p += n, left -= static_cast<size_t>(n);
  }
}

void PipeSink::metric(int64_t step, std::string_view key, double value) { send(metric_line(step, key, value)); }
void PipeSink::flush() { send("F\n"); }
void PipeSink::progress(int64_t step, int64_t steps, double d_loss, double g_loss) {
  send(progress_line(step, steps, d_loss, g_loss));
}
void PipeSink::result(const TrialResult& r) { send(result_line(r)); }
void PipeSink::artifact(int64_t step, std::string_view kind, std::string_view mime, std::string_view bytes) {
  send(artifact_line(step, kind, mime, bytes));
}
void PipeSink::note(std::string_view key, std::string_view value) { send(note_line(key, value)); }
void PipeSink::checkpoint(int64_t step, uint64_t bytes, std::string_view sha256) {
  send(checkpoint_line(step, bytes, sha256));
}
void PipeSink::resumed(int64_t step, std::string_view message) { send(resumed_line(step, message)); }
void PipeSink::error(std::string_view message) { send(error_line(message)); }

std::string event_line(const Event& e) {
  switch (e.type) {
    case Event::Type::metric: return metric_line(e.step, e.key, e.value);
    case Event::Type::flush: return "F\n";
    case Event::Type::progress: return progress_line(e.step, e.steps, e.d_loss, e.g_loss);
    case Event::Type::result: return result_line(e.result);
    case Event::Type::error: return error_line(e.message);
    case Event::Type::artifact: return artifact_line(e.step, e.key, e.mime, e.bytes);
    case Event::Type::note: return note_line(e.key, e.message);
    case Event::Type::checkpoint: return checkpoint_line(e.step, static_cast<uint64_t>(e.size), e.key);
    case Event::Type::resumed: return resumed_line(e.step, e.message);
  }
  return "F\n";
}

std::optional<Event> parse_event(std::string_view line) {
  if (line.empty()) return std::nullopt;
  Event e;
  const char tag = line[0];
  if (tag == 'F' && line.size() == 1) {
    e.type = Event::Type::flush;
    return e;
  }
  if (line.size() < 2 || line[1] != '\t') return std::nullopt;
  line.remove_prefix(2);
  if (tag == 'M') {
    const auto f = split(line, 3);
    e.type = Event::Type::metric;
    e.key = unescape(f.size() == 3 ? f[1] : "");
    if (f.size() == 3 && to_int(f[0], e.step) && to_double(f[2], e.value)) return e;
  } else if (tag == 'P') {
    const auto f = split(line, 4);
    e.type = Event::Type::progress;
    if (f.size() == 4 && to_int(f[0], e.step) && to_int(f[1], e.steps) && to_double(f[2], e.d_loss) &&
        to_double(f[3], e.g_loss))
      return e;
  } else if (tag == 'R') {
    const auto f = split(line, 5);
    e.type = Event::Type::result;
    int64_t outcome = 0;
    if (f.size() == 5 && to_int(f[0], outcome) && outcome >= 0 && outcome <= 2 && to_int(f[1], e.result.step) &&
        to_int(f[2], e.result.d_updates) && to_int(f[3], e.result.g_updates)) {
      e.result.outcome = static_cast<TrialOutcome>(outcome);
      e.result.message = unescape(f[4]);
      return e;
    }
  } else if (tag == 'A') {
    const auto f = split(line, 4);
    e.type = Event::Type::artifact;
    if (f.size() == 4 && to_int(f[0], e.step)) {
      e.key = unescape(f[1]);
      e.mime = unescape(f[2]);
      if (auto bytes = base64_decode(f[3])) {
        e.bytes = std::move(*bytes);
        return e;
      }
    }
  } else if (tag == 'N') {
    const auto f = split(line, 2);
    e.type = Event::Type::note;
    if (f.size() == 2) {
      e.key = unescape(f[0]);
      e.message = unescape(f[1]);
      return e;
    }
  } else if (tag == 'C') {
    const auto f = split(line, 3);
    e.type = Event::Type::checkpoint;
    if (f.size() == 3 && to_int(f[0], e.step) && to_int(f[1], e.size)) {
      e.key = unescape(f[2]);
      return e;
    }
  } else if (tag == 'S') {
    const auto f = split(line, 2);
    e.type = Event::Type::resumed;
    if (f.size() == 2 && to_int(f[0], e.step)) {
      e.message = unescape(f[1]);
      return e;
    }
  } else if (tag == 'E') {
    e.type = Event::Type::error;
    e.message = unescape(line);
    return e;
  }
  return std::nullopt;
}

}  // namespace gantry
