#include <gantry/data.hpp>
#include <gantry/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace gantry {

EpochOrder::EpochOrder(std::vector<int64_t> items) : items_(std::move(items)), next_(items_.size()) {}

int64_t EpochOrder::next(Rng& rng) {
  GANTRY_ASSERT(!items_.empty());
  if (next_ == items_.size()) {
    for (size_t k = items_.size(); k > 1; --k) std::swap(items_[k - 1], items_[rng.below(k)]);
    next_ = 0;
  }
  return items_[next_++];
}

// u64 position, then the permutation's items (i64 each).
std::string EpochOrder::state() const {
  std::string out(sizeof(uint64_t) * (1 + items_.size()), '\0');
  const uint64_t next = next_;
  std::memcpy(out.data(), &next, sizeof next);
  std::memcpy(out.data() + sizeof next, items_.data(), items_.size() * sizeof(int64_t));
  return out;
}

void EpochOrder::set_state(std::string_view state, std::string_view source) {
  if (state.size() != sizeof(uint64_t) * (1 + items_.size()))
    throw Error(fmt::format("{}: a saved state of {} bytes does not fit {} samples", source, state.size(), items_.size()));
  uint64_t next = 0;
  std::memcpy(&next, state.data(), sizeof next);
  if (next > items_.size()) throw Error(fmt::format("{}: the saved position is past the end of the epoch", source));
  std::vector<int64_t> items(items_.size());
  std::memcpy(items.data(), state.data() + sizeof next, items.size() * sizeof(int64_t));
  std::vector<int64_t> saved = items, own = items_;
  std::sort(saved.begin(), saved.end());
  std::sort(own.begin(), own.end());
  if (saved != own)
    throw Error(fmt::format("{}: the saved epoch order is not a permutation of this source's samples", source));
  items_ = std::move(items);
  next_ = next;
}

std::vector<int64_t> StoredSamplesSource::sample_shape() const {
  GANTRY_ASSERT(samples_ != nullptr);
  return {samples_->shape().begin() + 1, samples_->shape().end()};
}

void StoredSamplesSource::hold(const Tensor& samples, std::vector<int64_t> rows, std::vector<int32_t> labels,
                               int64_t num_classes, std::string unlabelled_reason) {
  GANTRY_ASSERT(!rows.empty());
  GANTRY_ASSERT(num_classes == 0 ? labels.empty() : static_cast<int64_t>(labels.size()) == samples.dim(0));
  samples_ = &samples;
  order_ = EpochOrder(std::move(rows));
  labels_ = std::move(labels);
  num_classes_ = num_classes;
  unlabelled_reason_ = std::move(unlabelled_reason);
}

void StoredSamplesSource::sample_labelled(Rng& rng, Tensor& out, std::span<int32_t> labels) {
  if (num_classes_ == 0) throw Error(fmt::format("{}: {}", name_, unlabelled_reason_));
  GANTRY_ASSERT(static_cast<int64_t>(labels.size()) == out.dim(0));
  draw(rng, out, labels);
}

void StoredSamplesSource::draw(Rng& rng, Tensor& out, std::span<int32_t> labels) {
  const int64_t size = samples_->sample_size();
  if (out.sample_size() != size)
    throw Error(fmt::format("{}: asked for samples of shape {}", name_, shape_string(out.shape())));
  for (int64_t i = 0; i < out.dim(0); ++i) {
    const int64_t row = order_.next(rng);
    if (!labels.empty()) labels[static_cast<size_t>(i)] = labels_[static_cast<size_t>(row)];
    const float* src = samples_->data() + row * size;
    std::copy(src, src + size, out.data() + i * size);
  }
}

}  // namespace gantry
