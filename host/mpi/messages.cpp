#include "mpi/messages.hpp"

#include <bit>

namespace gantry::mpi {

namespace {

class Writer {
 public:
  explicit Writer(Kind kind) { out_ += static_cast<char>(kind); }
  Writer& u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  Writer& i64(int64_t v) { return u64(static_cast<uint64_t>(v)); }
  Writer& str(std::string_view s) {
    u64(s.size());
    out_ += s;
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields in order; once one is missing every later read fails too, checked once at the end.
class Reader {
 public:
  Reader(std::string_view bytes, Kind kind) : in_(bytes) {
    ok_ = !in_.empty() && static_cast<Kind>(in_[0]) == kind;
    if (ok_) in_.remove_prefix(1);
  }
  uint64_t u64() {
    if (!ok_ || in_.size() < 8) return fail();
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  std::string str() {
    const uint64_t n = u64();
    if (!ok_ || in_.size() < n) return fail(), std::string();
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  /// A count of items that each take at least `min_bytes`: more than the rest can hold is a lie.
  uint64_t count(size_t min_bytes) {
    const uint64_t n = u64();
    return ok_ && n <= in_.size() / min_bytes ? n : fail();
  }
  bool done() const { return ok_ && in_.empty(); }

 private:
  uint64_t fail() {
    ok_ = false;
    return 0;
  }
  std::string_view in_;
  bool ok_ = false;
};

}  // namespace

std::string encode(const Hello& h) {
  Writer w(Kind::hello);
  w.i64(h.rank).str(h.host).str(h.fingerprint).i64(h.abi).i64(h.slots).str(h.error).u64(h.plugins.size());
  for (const PluginFact& p : h.plugins) w.str(p.kind).str(p.name).str(p.version).str(p.sha256).str(p.file);
  w.u64(h.identities.size());
  for (const std::string& id : h.identities) w.str(id);
  return w.take();
}

std::optional<Hello> decode_hello(std::string_view bytes) {
  Reader r(bytes, Kind::hello);
  Hello h;
  h.rank = static_cast<int>(r.i64());
  h.host = r.str();
  h.fingerprint = r.str();
  h.abi = r.i64();
  h.slots = r.i64();
  h.error = r.str();
  h.plugins.resize(r.count(5 * 8));
  for (PluginFact& p : h.plugins) p = {r.str(), r.str(), r.str(), r.str(), r.str()};
  h.identities.resize(r.count(8));
  for (std::string& id : h.identities) id = r.str();
  if (!r.done()) return std::nullopt;
  return h;
}

std::string encode(const Launch& l) {
  Writer w(Kind::launch);
  w.i64(l.record).i64(l.trial).i64(l.run_id).i64(l.threads).u64(l.memory_limit).str(l.identity);
  w.str(l.checkpoints.folder.string()).u64(l.checkpoints.resume_from.size());
  for (const CheckpointRef& c : l.checkpoints.resume_from) w.i64(c.step).str(c.path.string()).str(c.sha256);
  return w.take();
}

std::optional<Launch> decode_launch(std::string_view bytes) {
  Reader r(bytes, Kind::launch);
  Launch l;
  l.record = r.i64();
  l.trial = r.i64();
  l.run_id = r.i64();
  l.threads = r.i64();
  l.memory_limit = r.u64();
  l.identity = r.str();
  l.checkpoints.folder = r.str();
  l.checkpoints.resume_from.resize(r.count(3 * 8));
  for (CheckpointRef& c : l.checkpoints.resume_from) {
    c.step = r.i64();
    c.path = r.str();
    c.sha256 = r.str();
  }
  if (!r.done()) return std::nullopt;
  return l;
}

std::string encode(const Start& s) {
  Writer w(Kind::start);
  w.u64(s.networks.size());
  for (const FeatureNetwork& n : s.networks)
    w.str(n.recipe).str(n.sha256).u64(std::bit_cast<uint64_t>(n.test_accuracy)).str(n.file);
  return w.take();
}

std::optional<Start> decode_start(std::string_view bytes) {
  Reader r(bytes, Kind::start);
  Start s;
  s.networks.resize(r.count(4 * 8));
  for (FeatureNetwork& n : s.networks) {
    n.recipe = r.str();
    n.sha256 = r.str();
    n.test_accuracy = std::bit_cast<double>(r.u64());
    n.file = r.str();
  }
  if (!r.done()) return std::nullopt;
  return s;
}

std::string encode(const std::vector<ReportItem>& items) {
  Writer w(Kind::report);
  w.u64(items.size());
  for (const ReportItem& i : items) w.u64(static_cast<uint64_t>(i.type)).i64(i.record).str(i.text).i64(i.wait_status);
  return w.take();
}

std::optional<std::vector<ReportItem>> decode_report(std::string_view bytes) {
  Reader r(bytes, Kind::report);
  std::vector<ReportItem> items(r.count(4 * 8));
  for (ReportItem& i : items) {
    const uint64_t type = r.u64();
    if (type < 1 || type > 3) return std::nullopt;
    i.type = static_cast<ReportItem::Type>(type);
    i.record = r.i64();
    i.text = r.str();
    i.wait_status = r.i64();
  }
  if (!r.done()) return std::nullopt;
  return items;
}

std::string encode_simple(Kind kind, int64_t value) { return Writer(kind).i64(value).take(); }

std::optional<int64_t> decode_simple(std::string_view bytes) {
  const auto kind = kind_of(bytes);
  if (!kind) return std::nullopt;
  Reader r(bytes, *kind);
  const int64_t v = r.i64();
  if (!r.done()) return std::nullopt;
  return v;
}

std::optional<Kind> kind_of(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  const auto k = static_cast<uint8_t>(bytes[0]);
  if (k < static_cast<uint8_t>(Kind::hello) || k > static_cast<uint8_t>(Kind::bye)) return std::nullopt;
  return static_cast<Kind>(k);
}

}  // namespace gantry::mpi
