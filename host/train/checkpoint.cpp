#include "train/checkpoint.hpp"

#include <gantry/plugin.hpp>
#include <gantry/sha256.hpp>

#include <cerrno>
#include <charconv>
#include <optional>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

namespace gantry {

namespace {

constexpr char magic[8] = {'G', 'A', 'N', 'T', 'R', 'Y', 'C', 'K'};
constexpr size_t fixed_bytes = sizeof magic + 4 + 4 + 8 + 8;
constexpr size_t stream_bytes = 4 * 8 + 8 + 1;

std::string header_text(const TrainingState& state) {
  std::string h;
  for (const std::string& line : state.architecture) h += line + "\n";
  for (const auto& [name, t] : state.tensors) h += fmt::format("tensor {} {}\n", name, shape_string(t->shape()));
  for (const auto& [name, rng] : state.streams) h += fmt::format("stream {}\n", name);
  for (const auto& [name, value] : state.counters) h += fmt::format("counter {}\n", name);
  return h;
}

// Appends to a file descriptor in large writes, hashing what it writes.
class HashingWriter {
 public:
  HashingWriter(int fd, const std::filesystem::path& shown) : fd_(fd), shown_(shown) {}
  template <class T>
  void put(const T& value) {
    bytes(&value, sizeof value);
  }
  void bytes(const void* data, size_t size) {
    sha_.update(data, size);
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw CheckpointError(fmt::format("checkpoint {}: cannot write: {}", shown_.string(), std::strerror(errno)));
      p += n, size -= static_cast<size_t>(n), written_ += static_cast<uint64_t>(n);
    }
  }
  uint64_t written() const { return written_; }
  std::string digest() { return sha_.hex(); }

 private:
  int fd_;
  const std::filesystem::path& shown_;
  Sha256 sha_;
  uint64_t written_ = 0;
};

void write_body(HashingWriter& w, const TrainingState& state, const std::string& header, const std::string& data_state) {
  uint64_t total = fixed_bytes + header.size() + state.streams.size() * stream_bytes + state.counters.size() * 8 + 8 +
                   data_state.size();
  for (const auto& [name, t] : state.tensors) total += static_cast<uint64_t>(t->size()) * sizeof(float);
  w.bytes(magic, sizeof magic);
  w.put(checkpoint_format_version);
  w.put(abi_version);
  w.put(total);
  w.put(static_cast<uint64_t>(header.size()));
  w.bytes(header.data(), header.size());
  for (const auto& [name, t] : state.tensors) w.bytes(t->data(), static_cast<size_t>(t->size()) * sizeof(float));
  for (const auto& [name, rng] : state.streams) {
    const RngState s = rng->state();
    w.bytes(s.s, sizeof s.s);
    w.put(s.spare_normal);
    w.put(static_cast<uint8_t>(s.has_spare));
  }
  for (const auto& [name, value] : state.counters) w.put(value);
  w.put(static_cast<uint64_t>(data_state.size()));
  w.bytes(data_state.data(), data_state.size());
}

void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the rename happened; only its durability across a power cut is weaker
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

WrittenCheckpoint write_checkpoint(const std::filesystem::path& path, const TrainingState& state) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) throw CheckpointError(fmt::format("checkpoint {}: cannot create its folder: {}", path.string(), ec.message()));
  const std::filesystem::path temp = path.parent_path() / fmt::format(".{}.tmp-{}", path.filename().string(), getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw CheckpointError(fmt::format("checkpoint {}: cannot create: {}", path.string(), std::strerror(errno)));
  WrittenCheckpoint out;
  try {
    HashingWriter w(fd, path);
    write_body(w, state, header_text(state), state.data ? state.data->state() : std::string());
    if (::fsync(fd) != 0)
      throw CheckpointError(fmt::format("checkpoint {}: cannot write: {}", path.string(), std::strerror(errno)));
    out = {w.written(), w.digest()};
  } catch (...) {
    ::close(fd);
    std::filesystem::remove(temp, ec);
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::filesystem::remove(temp, ec);
    throw CheckpointError(fmt::format("checkpoint {}: cannot rename into place: {}", path.string(), std::strerror(err)));
  }
  sync_folder(path.parent_path());
  return out;
}

namespace {

// Reads fixed-size values from a file's bytes; the caller has checked the size.
class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof value);
    pos_ += sizeof value;
    return value;
  }
  const char* take(size_t n) {
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  size_t left() const { return bytes_.size() - pos_; }

 private:
  const std::string& bytes_;
  size_t pos_ = 0;
};

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(fmt::format("checkpoint {}: cannot open: {}", path.string(), std::strerror(errno)));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  return out;
}

// The first line where the file's header and the trial's differ, named for the reader.
[[noreturn]] void refuse_header(const std::filesystem::path& path, const std::string& file, const std::string& ours) {
  const auto a = lines_of(file), b = lines_of(ours);
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const std::string theirs = i < a.size() ? fmt::format("'{}'", a[i]) : "nothing more";
  const std::string mine = i < b.size() ? fmt::format("'{}'", b[i]) : "nothing more";
  throw CheckpointError(
      fmt::format("checkpoint {}: made by another architecture: the file has {} where this trial has {}",
                  path.string(), theirs, mine));
}

// Magic, version, ABI, size and hash: what can be checked before the header is compared.
Reader checked(const std::filesystem::path& path, const std::string& bytes, const std::string& expected_sha256) {
  const std::string name = path.string();
  if (bytes.size() < fixed_bytes || std::memcmp(bytes.data(), magic, sizeof magic) != 0)
    throw CheckpointError(fmt::format("checkpoint {}: not a gantry checkpoint", name));
  Reader r(bytes);
  r.take(sizeof magic);
  const auto version = r.get<uint32_t>();
  if (version != checkpoint_format_version)
    throw CheckpointError(fmt::format("checkpoint {}: format version {}, this gantry reads version {}", name, version,
                                      checkpoint_format_version));
  const auto abi = r.get<uint32_t>();
  if (abi != abi_version)
    throw CheckpointError(fmt::format("checkpoint {}: written by plugin ABI {}, this gantry has ABI {}", name, abi, abi_version));
  const auto total = r.get<uint64_t>();
  if (total != bytes.size())
    throw CheckpointError(fmt::format("checkpoint {}: {}: {} bytes, its header says {}", name,
                                      bytes.size() < total ? "truncated" : "has extra bytes", bytes.size(), total));
  if (!expected_sha256.empty()) {
    const std::string actual = sha256_hex(bytes);
    if (actual != expected_sha256)
      throw CheckpointError(fmt::format("checkpoint {}: sha256 {} differs from the {} recorded when it was written", name,
                                        actual, expected_sha256));
  }
  return r;
}

}  // namespace

std::map<std::string, int64_t> read_checkpoint(const std::filesystem::path& path, const std::string& expected_sha256,
                                               TrainingState& state) {
  const std::string bytes = read_all(path);
  Reader r = checked(path, bytes, expected_sha256);
  const auto header_size = r.get<uint64_t>();
  const std::string ours = header_text(state);
  if (header_size > r.left()) throw CheckpointError(fmt::format("checkpoint {}: its header runs past the end", path.string()));
  const std::string header(r.take(header_size), header_size);
  if (header != ours) refuse_header(path, header, ours);
  // The header equals ours and the size is the one written, so every read below is in bounds.
  std::vector<const char*> tensor_bytes;
  for (const auto& [name, t] : state.tensors) tensor_bytes.push_back(r.take(static_cast<size_t>(t->size()) * sizeof(float)));
  std::vector<RngState> streams(state.streams.size());
  for (RngState& s : streams) {
    std::memcpy(s.s, r.take(sizeof s.s), sizeof s.s);
    s.spare_normal = r.get<double>();
    s.has_spare = r.get<uint8_t>() != 0;
  }
  std::map<std::string, int64_t> counters;
  for (const auto& [name, value] : state.counters) counters[name] = r.get<int64_t>();
  const auto data_size = r.get<uint64_t>();
  if (data_size != r.left())
    throw CheckpointError(fmt::format("checkpoint {}: its data state has {} bytes where {} are left", path.string(),
                                      data_size, r.left()));
  const std::string_view data_state(r.take(data_size), data_size);
  if (state.data) {
    try {
      state.data->set_state(data_state);
    } catch (const std::exception& e) {
      throw CheckpointError(fmt::format("checkpoint {}: the data source refused its saved state: {}", path.string(), e.what()));
    }
  }
  for (size_t i = 0; i < state.tensors.size(); ++i)
    std::memcpy(state.tensors[i].second->data(), tensor_bytes[i], static_cast<size_t>(state.tensors[i].second->size()) * sizeof(float));
  for (size_t i = 0; i < streams.size(); ++i) state.streams[i].second->set_state(streams[i]);
  return counters;
}

namespace {

// "[2, 3, 4]" (shape_string's form) as its dimensions; nullopt for anything else.
std::optional<std::vector<int64_t>> parse_shape(std::string_view text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  std::vector<int64_t> shape;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const size_t comma = text.find(", ");
    const std::string_view part = text.substr(0, comma);
    int64_t d = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), d);
    if (ec != std::errc() || end != part.data() + part.size() || d < 0) return std::nullopt;
    shape.push_back(d);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 2);
  }
  return shape;
}

}  // namespace

CheckpointTensors read_checkpoint_tensors(const std::filesystem::path& path, const std::string& expected_sha256) {
  const std::string bytes = read_all(path);
  Reader r = checked(path, bytes, expected_sha256);
  const auto header_size = r.get<uint64_t>();
  if (header_size > r.left()) throw CheckpointError(fmt::format("checkpoint {}: its header runs past the end", path.string()));
  CheckpointTensors out;
  std::vector<std::pair<std::string, std::vector<int64_t>>> listed;
  for (const std::string& line : lines_of(std::string(r.take(header_size), header_size))) {
    if (line.starts_with("stream ") || line.starts_with("counter ")) continue;
    if (!line.starts_with("tensor ")) {
      out.architecture.push_back(line);
      continue;
    }
    const size_t space = line.find(' ', 7);
    const auto shape = space == std::string::npos ? std::nullopt : parse_shape(std::string_view(line).substr(space + 1));
    if (!shape) throw CheckpointError(fmt::format("checkpoint {}: unreadable header line '{}'", path.string(), line));
    listed.emplace_back(line.substr(7, space - 7), *shape);
  }
  for (const auto& [name, shape] : listed) {
    const size_t n = static_cast<size_t>(element_count(shape)) * sizeof(float);
    if (n > r.left()) throw CheckpointError(fmt::format("checkpoint {}: tensor {} runs past the end", path.string(), name));
    Tensor t(shape);
    std::memcpy(t.data(), r.take(n), n);
    out.tensors.emplace(name, std::move(t));
  }
  return out;
}

}  // namespace gantry
