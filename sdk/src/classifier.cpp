#include <gantry/classifier.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>
#include <gantry/optimizer.hpp>
#include <gantry/sha256.hpp>

#include "reference_training.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <numeric>
#include <sys/file.h>
#include <unistd.h>

namespace gantry {
namespace {

// Everything that decides the weights. Changing any of it changes the hash, hence the cache file.
constexpr uint64_t seed = 20261128;
constexpr int64_t epochs = 6, batch = 100;
constexpr double lr = 1e-3, lr_decay = 0.6;  // per epoch
constexpr const char* recipe_text =
    "gantry reference classifier v2: Conv(1,32,k4,s2,p1) ReLU Conv(32,64,k4,s2,p1) ReLU Flatten "
    "Linear(3136,128) ReLU | Linear(128,10); softmax cross-entropy; Adam(1e-3, 0.9, 0.999), lr x0.6 per "
    "epoch; 6 epochs; batch 100; seed 20261128; fashion-mnist train split; exact_gemm training";
constexpr const char* magic = "GANTRY-CLASSIFIER 1";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Holds an exclusive lock on a file for the object's lifetime.
struct FileLock {
  int fd;
  explicit FileLock(const std::filesystem::path& path) : fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd < 0) throw Error(fmt::format("cannot create the lock file {}", path.string()));
    while (::flock(fd, LOCK_EX) != 0)
      if (errno != EINTR) throw Error(fmt::format("cannot lock {}", path.string()));
  }
  ~FileLock() { ::close(fd); }
};

}  // namespace

ReferenceClassifier::ReferenceClassifier() {
  Rng init(seed);
  body_.emplace<Conv2d>(1, 32, 4, 2, 1, init);
  body_.emplace<Eltwise>(Activation::relu);
  body_.emplace<Conv2d>(32, 64, 4, 2, 1, init);
  body_.emplace<Eltwise>(Activation::relu);
  body_.add(make_flatten(64 * 7 * 7));
  body_.emplace<Linear>(64 * 7 * 7, feature_dim, init);
  body_.emplace<Eltwise>(Activation::relu);
  head_.emplace<Linear>(feature_dim, classes, init);
}

std::filesystem::path ReferenceClassifier::cache_dir() {
  if (const char* d = std::getenv("GANTRY_CACHE_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d != nullptr && *d != '\0') return std::filesystem::path(d) / "gantry";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return std::filesystem::path(h) / ".cache" / "gantry";
  return std::filesystem::temp_directory_path() / "gantry-cache";
}

std::string ReferenceClassifier::recipe_hash(const std::filesystem::path& data_dir) {
  Sha256 h;
  h.update(recipe_text);
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
    // A missing file: the data loader's error says how to install the data.
    if (!std::filesystem::exists(data_dir / f)) load_fashion_mnist(data_dir, "train");
    h.update(sha256_file(data_dir / f));
  }
  return h.hex();
}

std::filesystem::path ReferenceClassifier::study_dir() {
  const char* d = std::getenv("GANTRY_FEATURE_NETWORK_DIR");
  return d != nullptr ? std::filesystem::path(d) : std::filesystem::path();
}

std::string ReferenceClassifier::file_name(const std::string& recipe) {
  return fmt::format("classifier-{}.bin", recipe.substr(0, 16));
}

std::filesystem::path ReferenceClassifier::file_for(const std::string& recipe) { return cache_dir() / file_name(recipe); }

std::filesystem::path ReferenceClassifier::cache_file(const std::filesystem::path& data_dir) {
  return file_for(recipe_hash(data_dir));
}

std::unique_ptr<ReferenceClassifier> ReferenceClassifier::load_or_train(const std::filesystem::path& data_dir,
                                                                        const Log& log) {
  const std::string recipe = recipe_hash(data_dir);
  if (const auto study = study_dir(); !study.empty() && std::filesystem::exists(study / file_name(recipe))) {
    auto c = load(study / file_name(recipe));
    if (c->recipe() != recipe)
      throw Error(fmt::format("{} holds a classifier of recipe {}, not {}", c->file().string(), c->recipe(), recipe));
    return c;
  }
  const auto file = file_for(recipe);
  if (std::filesystem::exists(file)) return load_cached(file);
  std::filesystem::create_directories(file.parent_path());
  FileLock lock(file.string() + ".lock");
  if (std::filesystem::exists(file)) return load_cached(file);  // another process trained it meanwhile
  if (log) log(fmt::format("training the reference classifier (once per machine) into {}", file.string()));
  return train_recipe(data_dir, recipe, log);
}

std::unique_ptr<ReferenceClassifier> ReferenceClassifier::train(const std::filesystem::path& data_dir, const Log& log) {
  return train_recipe(data_dir, recipe_hash(data_dir), log);
}

// The recipe's schedule on `train_set`, stopping after `max_batches` batches when positive.
void ReferenceClassifier::fit(const LabelledImages& train_set, int64_t max_batches, const Log& log) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Parameter*> params = body_.parameters();
  for (Parameter* p : head_.parameters()) params.push_back(p);
  Adam adam(params, {lr, 0.9, 0.999, 1e-8});
  detail::ReferenceTrainer trainer(params, batch);

  const int64_t n = train_set.images.dim(0), pixels = 28 * 28;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<uint8_t> labels(batch);
  std::vector<float> x(static_cast<size_t>(batch * pixels));
  Rng rng(derive_seed(seed, "order"));
  double epoch_lr = lr;  // by repeated products: std::pow may round differently per CPU
  int64_t done = 0;
  for (int64_t epoch = 0; epoch < epochs; ++epoch, epoch_lr *= lr_decay) {
    adam.set_lr(epoch_lr);
    std::iota(order.begin(), order.end(), 0);
    for (size_t k = order.size(); k > 1; --k) std::swap(order[k - 1], order[rng.below(k)]);
    double loss_sum = 0;
    for (int64_t start = 0; start + batch <= n; start += batch) {
      if (max_batches > 0 && done++ == max_batches) return;
      for (int64_t i = 0; i < batch; ++i) {
        const int64_t src = order[static_cast<size_t>(start + i)];
        std::copy_n(train_set.images.data() + src * pixels, pixels, x.data() + i * pixels);
        labels[static_cast<size_t>(i)] = train_set.labels[static_cast<size_t>(src)];
      }
      adam.zero_grad();
      loss_sum += trainer.step(x.data(), labels.data());
      adam.step();
    }
    if (log)
      log(fmt::format("epoch {}/{}: loss {:.4f}, {:.1f} s", epoch + 1, epochs,
                      loss_sum / static_cast<double>(n / batch), seconds_since(t0)));
  }
}

std::unique_ptr<ReferenceClassifier> ReferenceClassifier::train_recipe(const std::filesystem::path& data_dir,
                                                                       const std::string& recipe, const Log& log) {
  const auto t0 = std::chrono::steady_clock::now();
  const LabelledImages& test_set = load_fashion_mnist(data_dir, "test");
  std::unique_ptr<ReferenceClassifier> c(new ReferenceClassifier());
  c->recipe_ = recipe;
  c->fit(load_fashion_mnist(data_dir, "train"), 0, log);
  c->test_accuracy_ = c->accuracy(test_set.images, test_set.labels);
  c->train_seconds_ = seconds_since(t0);
  if (log) log(fmt::format("test accuracy {:.2f} % after {:.1f} s", 100 * c->test_accuracy_, c->train_seconds_));
  c->save(file_for(recipe));
  return c;
}

std::string ReferenceClassifier::weights_after(const std::filesystem::path& data_dir, int64_t batches) {
  if (batches <= 0) throw Error("weights_after: batches must be positive");
  std::unique_ptr<ReferenceClassifier> c(new ReferenceClassifier());
  c->fit(load_fashion_mnist(data_dir, "train"), batches, {});
  return c->weights_hash();
}

void ReferenceClassifier::embed(const Tensor& images, Tensor& features, std::vector<int>* predicted) {
  if (images.rank() != 4 || images.dim(1) != 1 || images.dim(2) != 28 || images.dim(3) != 28)
    throw Error(fmt::format("the reference classifier reads images [N, 1, 28, 28], got {}", shape_string(images.shape())));
  constexpr int64_t chunk = 500, pixels = 28 * 28;
  const int64_t n = images.dim(0);
  features.reshape({n, feature_dim});
  if (predicted != nullptr) predicted->assign(static_cast<size_t>(n), 0);
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t m = std::min(chunk, n - start);
    chunk_.reshape({m, 1, 28, 28});
    std::copy_n(images.data() + start * pixels, m * pixels, chunk_.data());
    const Tensor& f = body_.forward(chunk_, Mode::eval);
    std::copy_n(f.data(), m * feature_dim, features.data() + start * feature_dim);
    if (predicted == nullptr) continue;
    const Tensor& logits = head_.forward(f, Mode::eval);
    for (int64_t i = 0; i < m; ++i) {
      const float* z = logits.data() + i * classes;
      (*predicted)[static_cast<size_t>(start + i)] = static_cast<int>(std::max_element(z, z + classes) - z);
    }
  }
}

double ReferenceClassifier::accuracy(const Tensor& images, const std::vector<uint8_t>& labels) {
  Tensor features;
  std::vector<int> predicted;
  embed(images, features, &predicted);
  int64_t right = 0;
  for (size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == labels.at(i);
  return predicted.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(predicted.size());
}

// Of the weights alone, so the same weights have the same hash whatever else the file records.
std::string ReferenceClassifier::weights_hash() {
  Sha256 h;
  for (Sequential* net : {&body_, &head_}) {
    for (Parameter* p : net->parameters()) h.update(p->value.data(), static_cast<size_t>(p->value.size()) * sizeof(float));
    for (Tensor* b : net->buffers()) h.update(b->data(), static_cast<size_t>(b->size()) * sizeof(float));
  }
  return h.hex();
}

// The cache's own file: a damaged one is the cache's problem, with the way out named.
std::unique_ptr<ReferenceClassifier> ReferenceClassifier::load_cached(const std::filesystem::path& file) {
  try {
    return load(file);
  } catch (const Error& e) {
    throw Error(fmt::format("{}; delete it and run `gantry classifier train`", e.what()));
  }
}

std::unique_ptr<ReferenceClassifier> ReferenceClassifier::import_file(const std::filesystem::path& file) {
  auto c = load(file);  // refuses anything that is not a whole classifier
  const auto target = file_for(c->recipe());
  c->save(target);
  return load(target);
}

void ReferenceClassifier::save(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  const auto tmp = file.string() + fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << magic << '\n' << recipe_ << '\n' << fmt::format("{:.17g} {:.17g}\n", test_accuracy_, train_seconds_);
    std::vector<Tensor*> tensors;
    for (Sequential* net : {&body_, &head_}) {
      for (Parameter* p : net->parameters()) tensors.push_back(&p->value);
      for (Tensor* b : net->buffers()) tensors.push_back(b);
    }
    out << tensors.size() << '\n';
    for (Tensor* t : tensors) {
      out << t->size() << '\n';
      out.write(reinterpret_cast<const char*>(t->data()), static_cast<std::streamsize>(t->size() * sizeof(float)));
    }
    if (!out) throw Error(fmt::format("cannot write {}", tmp));
  }
  std::filesystem::rename(tmp, file);  // readers never see half a file
  file_ = file;
  weights_sha256_ = weights_hash();
}

std::unique_ptr<ReferenceClassifier> ReferenceClassifier::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("no reference classifier at {} (train it with `gantry classifier train`)", file.string()));
  std::unique_ptr<ReferenceClassifier> c(new ReferenceClassifier());
  auto corrupt = [&](std::string_view what) {
    return Error(fmt::format("{} is not a usable reference classifier ({})",
                             file.string(), what));
  };
  std::string line;
  if (!std::getline(in, line) || line != magic) throw corrupt("unknown format");
  if (!std::getline(in, c->recipe_) || c->recipe_.size() != 64) throw corrupt("no recipe hash");
  size_t count = 0;
  if (!(in >> c->test_accuracy_ >> c->train_seconds_ >> count)) throw corrupt("no header");
  std::vector<Tensor*> tensors;
  for (Sequential* net : {&c->body_, &c->head_}) {
    for (Parameter* p : net->parameters()) tensors.push_back(&p->value);
    for (Tensor* b : net->buffers()) tensors.push_back(b);
  }
  if (count != tensors.size()) throw corrupt("another architecture");
  for (Tensor* t : tensors) {
    int64_t size = 0;
    if (!(in >> size) || size != t->size() || in.get() != '\n') throw corrupt("a tensor of the wrong size");
    in.read(reinterpret_cast<char*>(t->data()), static_cast<std::streamsize>(size * sizeof(float)));
    if (!in) throw corrupt("truncated");
  }
  c->file_ = file;
  c->weights_sha256_ = c->weights_hash();
  return c;
}

}  // namespace gantry
