#include <gantry/random.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numbers>

namespace gantry {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t derive_seed(uint64_t seed, std::string_view purpose) {
  // FNV-1a of the purpose, then mixed with the seed so nearby seeds give unrelated streams.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : purpose) h = (h ^ c) * 0x100000001b3ULL;
  uint64_t state = seed ^ h;
  splitmix64(state);
  return splitmix64(state);
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (auto& s : s_) s = splitmix64(state);
}

RngState Rng::state() const {
  RngState out;
  std::copy(std::begin(s_), std::end(s_), out.s);
  out.spare_normal = spare_normal_;
  out.has_spare = has_spare_;
  return out;
}

void Rng::set_state(const RngState& state) {
  std::copy(std::begin(state.s), std::end(state.s), s_);
  spare_normal_ = state.spare_normal;
  has_spare_ = state.has_spare;
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  double u1 = 0;
  while (u1 <= 0) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_normal_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

uint64_t Rng::below(uint64_t n) {
  // Rejection keeps the draw unbiased for every n.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = next_u64();
  while (x >= limit);
  return x % n;
}

void Rng::fill_normal(std::span<float> out, float mean, float stddev) {
  for (float& v : out) v = mean + stddev * static_cast<float>(normal());
}

void Rng::fill_uniform(std::span<float> out, float lo, float hi) {
  for (float& v : out) v = lo + (hi - lo) * static_cast<float>(uniform());
}

}  // namespace gantry
