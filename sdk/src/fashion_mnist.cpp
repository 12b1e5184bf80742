#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>

#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>
#include <zlib.h>

namespace gantry {
namespace {

constexpr const char* install_hint =
    "install it with `apt-get install dataset-fashion-mnist` (scripts/install-deps.sh does), or point the "
    "`path` parameter at a folder holding the four *-ubyte.gz files";

// An IDX file: magic 0x0000 0x08 (unsigned bytes) <rank>, then rank big-endian u32 sizes, then data.
struct Idx {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> bytes;
};

Idx read_idx(const std::filesystem::path& file, int rank) {
  // Opening a FIFO or a device would block or never end: only regular files are data.
  std::error_code ec;
  if (std::filesystem::exists(file, ec) && !std::filesystem::is_regular_file(file, ec))
    throw Error(fmt::format("Fashion-MNIST: {} is not a regular file; {}", file.string(), install_hint));
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(file.c_str(), "rb"), gzclose);
  if (!gz) throw Error(fmt::format("Fashion-MNIST: cannot open {}; {}", file.string(), install_hint));
  auto read = [&](void* into, size_t n) {
    const int got = gzread(gz.get(), into, static_cast<unsigned>(n));
    if (got < 0 || static_cast<size_t>(got) != n)
      throw Error(fmt::format("Fashion-MNIST: {} is truncated or not gzip ({}); {}", file.string(),
                              got < 0 ? "read error" : "too short", install_hint));
  };
  uint8_t head[4];
  read(head, 4);
  if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] != rank)
    throw Error(fmt::format("Fashion-MNIST: {} is not an IDX file of unsigned bytes with {} dimensions", file.string(),
                            rank));
  Idx idx;
  size_t total = 1;
  for (int i = 0; i < rank; ++i) {
    uint8_t b[4];
    read(b, 4);
    idx.dims.push_back(uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3]);
    total *= idx.dims.back();
  }
  if (total == 0 || total > (size_t{1} << 31))
    throw Error(fmt::format("Fashion-MNIST: {} declares an implausible size", file.string()));
  idx.bytes.resize(total);
  read(idx.bytes.data(), total);
  return idx;
}

LabelledImages read_split(const std::filesystem::path& dir, std::string_view split) {
  if (split != "train" && split != "test")
    throw Error(fmt::format("Fashion-MNIST: unknown split '{}' (available: test, train)", split));
  const std::string prefix = split == "train" ? "train" : "t10k";
  const Idx images = read_idx(dir / (prefix + "-images-idx3-ubyte.gz"), 3);
  const Idx labels = read_idx(dir / (prefix + "-labels-idx1-ubyte.gz"), 1);
  if (images.dims[1] != 28 || images.dims[2] != 28 || images.dims[0] != labels.dims[0])
    throw Error(fmt::format("Fashion-MNIST: {} split has {} images of {}×{} but {} labels", split, images.dims[0],
                            images.dims[1], images.dims[2], labels.dims[0]));
  LabelledImages out;
  const int64_t n = images.dims[0];
  out.images = Tensor({n, 1, 28, 28});
  for (size_t i = 0; i < images.bytes.size(); ++i)
    out.images[static_cast<int64_t>(i)] = static_cast<float>(images.bytes[i]) / 127.5f - 1.0f;
  out.labels = labels.bytes;
  for (uint8_t l : out.labels)
    if (l > 9) throw Error(fmt::format("Fashion-MNIST: {} split has a label {} outside 0..9", split, int{l}));
  return out;
}

}  // namespace

std::filesystem::path default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

const std::array<const char*, 10>& fashion_mnist_classes() {
  static const std::array<const char*, 10> names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

const LabelledImages& load_fashion_mnist(const std::filesystem::path& dir, std::string_view split) {
  // The data plugin, the metric and the classifier all read the same files within one trial.
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::unique_ptr<LabelledImages>> cache;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(std::filesystem::absolute(dir).lexically_normal().string(), std::string(split));
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(std::move(key), std::make_unique<LabelledImages>(read_split(dir, split))).first;
  return *it->second;
}

}  // namespace gantry
