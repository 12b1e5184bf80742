#include "sweep/expand.hpp"

#include <gantry/random.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <sstream>

namespace gantry {

std::string node_text(const toml::node& node) {
  if (auto s = node.value<std::string>(); node.is_string()) return *s;
  if (node.is_floating_point()) return fmt::format("{}", *node.value<double>());
  std::ostringstream os;
  node.visit([&os](const auto& n) { os << n; });
  return os.str();
}

namespace {

constexpr const char* reserved[] = {"mode", "trials", "seed", "cases"};

bool before(const SourcePos& a, const SourcePos& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

bool is_reserved(std::string_view key) {
  for (const char* r : reserved)
    if (key == r) return true;
  return false;
}

// One axis: its path and how to draw from it.
struct Axis {
  std::string path;
  SourcePos pos;                              // of the key
  std::vector<const toml::node*> choices;     // grid values, or random choices
  std::string distribution = "choice";        // choice | uniform | log_uniform | int
  double lo = 0, hi = 0;
};

class Expander {
 public:
  Expander(std::string file, std::vector<std::string>& problems) : file_(std::move(file)), problems_(problems) {}

  Sweep run(const toml::table* t) {
    Sweep sweep;
    if (t == nullptr) {
      sweep.points.emplace_back();
      return sweep;
    }
    if (const toml::node* m = t->get("mode")) {
      if (m->is_string() && (*m->value<std::string>() == "grid" || *m->value<std::string>() == "random"))
        sweep.mode = *m->value<std::string>();
      else
        fail(pos(*m), "sweep.mode must be \"grid\" or \"random\"");
    }
    const bool random = sweep.mode == "random";
    int64_t trials = 0;
    uint64_t seed = 0;
    if (const toml::node* n = t->get("trials")) {
      if (!random) fail(pos(*n), "sweep.trials applies to mode = \"random\" only");
      else if (!n->is_integer() || *n->value<int64_t>() < 1) fail(pos(*n), "sweep.trials must be a positive integer");
      else trials = *n->value<int64_t>();
    } else if (random) {
      fail(pos(*t), "mode = \"random\" needs trials = N");
    }
    if (const toml::node* n = t->get("seed")) {
      if (!n->is_integer() || *n->value<int64_t>() < 0) fail(pos(*n), "sweep.seed must be a non-negative integer");
      else seed = static_cast<uint64_t>(*n->value<int64_t>());
    }

    std::vector<Axis> axes;
    for (auto&& [key, node] : *t) {
      if (is_reserved(key.str())) continue;
      const SourcePos kpos = SourcePos::of(file_, key.source());
      if (key.str().find('.') == std::string_view::npos) {
        fail(kpos, fmt::format("sweep axis '{}' must be a dotted path such as \"optimizer.lr\" or \"loss.plugin\" "
                               "(quote it: \"{}\" = [...]); reserved keys: mode, trials, seed, cases",
                               key.str(), key.str()));
        continue;
      }
      Axis axis{std::string(key.str()), kpos, {}, "choice", 0, 0};
      if (parse_axis(node, axis, random)) {
        axes.push_back(std::move(axis));
        sweep.columns.push_back(std::string(key.str()));
      }
    }

    // toml++ keeps a table's keys sorted; the file's order is the one a researcher expects.
    std::vector<size_t> order(axes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return before(axes[a].pos, axes[b].pos); });
    std::vector<Axis> sorted;
    sweep.columns.clear();
    for (size_t i : order) {
      sweep.columns.push_back(axes[i].path);
      sorted.push_back(std::move(axes[i]));
    }
    axes = std::move(sorted);

    std::vector<std::vector<Override>> cases{{}};
    if (const toml::node* c = t->get("cases")) cases = parse_cases(*c, sweep.columns);

    std::vector<std::vector<Override>> base;
    if (random) {
      Rng rng(derive_seed(seed, "sweep.random"));
      for (int64_t i = 0; i < trials; ++i) {
        std::vector<Override> point;
        for (const Axis& a : axes) point.push_back({a.path, draw(a, rng, sweep), a.pos, a.pos});
        base.push_back(std::move(point));
      }
    } else {
      base.emplace_back();
      for (const Axis& a : axes) {
        std::vector<std::vector<Override>> next;
        for (const auto& partial : base)
          for (const toml::node* v : a.choices) {
            auto p = partial;
            p.push_back({a.path, v, value_pos(*v, a.pos), a.pos});
            next.push_back(std::move(p));
          }
        base = std::move(next);
      }
    }
    for (const auto& c : cases)
      for (const auto& b : base) {
        SweepPoint p{b};
        p.overrides.insert(p.overrides.end(), c.begin(), c.end());
        sweep.points.push_back(std::move(p));
      }
    if (sweep.points.empty()) sweep.points.emplace_back();
    return sweep;
  }

 private:
  SourcePos pos(const toml::node& n) const { return SourcePos::of(file_, n.source()); }
  SourcePos value_pos(const toml::node& n, const SourcePos& fallback) const {
    return n.source().begin.line ? pos(n) : fallback;
  }
  void fail(const SourcePos& p, const std::string& msg) { problems_.push_back(p.str() + ": " + msg); }

  bool parse_axis(const toml::node& node, Axis& axis, bool random) {
    if (const toml::array* a = node.as_array()) {
      if (a->empty()) {
        fail(axis.pos, fmt::format("sweep axis '{}' has no values", axis.path));
        return false;
      }
      for (const auto& v : *a) axis.choices.push_back(&v);
      return true;
    }
    const toml::table* d = node.as_table();
    if (d == nullptr || d->size() != 1) {
      fail(axis.pos, fmt::format("sweep axis '{}' must be a list of values{}", axis.path,
                                 random ? " or one distribution: { choice = [...] }, { uniform = [lo, hi] }, "
                                          "{ log_uniform = [lo, hi] }, { int = [lo, hi] }"
                                        : " (distributions need mode = \"random\")"));
      return false;
    }
    const auto entry = d->begin();
    axis.distribution = std::string(entry->first.str());
    const toml::array* list = entry->second.as_array();
    if (axis.distribution == "choice") {
      if (list == nullptr || list->empty()) {
        fail(axis.pos, fmt::format("sweep axis '{}': choice needs a non-empty list", axis.path));
        return false;
      }
      for (const auto& v : *list) axis.choices.push_back(&v);
      return true;
    }
    if (!random) {
      fail(axis.pos, fmt::format("sweep axis '{}': distribution '{}' needs mode = \"random\"", axis.path,
                                 axis.distribution));
      return false;
    }
    if (axis.distribution != "uniform" && axis.distribution != "log_uniform" && axis.distribution != "int") {
      fail(axis.pos, fmt::format("sweep axis '{}': unknown distribution '{}' (available: choice, int, log_uniform, uniform)",
                                 axis.path, axis.distribution));
      return false;
    }
    if (list == nullptr || list->size() != 2 || !(*list)[0].is_number() || !(*list)[1].is_number()) {
      fail(axis.pos, fmt::format("sweep axis '{}': {} needs [lo, hi]", axis.path, axis.distribution));
      return false;
    }
    axis.lo = *(*list)[0].value<double>();
    axis.hi = *(*list)[1].value<double>();
    const bool ints = axis.distribution == "int";
    if (!(axis.lo <= axis.hi) || (axis.distribution == "log_uniform" && axis.lo <= 0) ||
        (ints && (!(*list)[0].is_integer() || !(*list)[1].is_integer()))) {
      fail(axis.pos, fmt::format("sweep axis '{}': bad range for {} [{}, {}]{}", axis.path, axis.distribution, axis.lo,
                                 axis.hi, axis.distribution == "log_uniform" ? " (needs 0 < lo <= hi)"
                                          : ints ? " (needs integers lo <= hi)" : " (needs lo <= hi)"));
      return false;
    }
    return true;
  }

  const toml::node* draw(const Axis& a, Rng& rng, Sweep& sweep) {
    if (a.distribution == "choice") return a.choices[rng.below(a.choices.size())];
    std::unique_ptr<toml::node> v;
    if (a.distribution == "int") {
      const auto lo = static_cast<int64_t>(a.lo), hi = static_cast<int64_t>(a.hi);
      v = std::make_unique<toml::value<int64_t>>(lo + static_cast<int64_t>(rng.below(static_cast<uint64_t>(hi - lo + 1))));
    } else if (a.distribution == "uniform") {
      v = std::make_unique<toml::value<double>>(a.lo + (a.hi - a.lo) * rng.uniform());
    } else {
      v = std::make_unique<toml::value<double>>(std::exp(std::log(a.lo) + (std::log(a.hi) - std::log(a.lo)) * rng.uniform()));
    }
    sweep.owned.push_back(std::move(v));
    return sweep.owned.back().get();
  }

  std::vector<std::vector<Override>> parse_cases(const toml::node& node, std::vector<std::string>& columns) {
    const toml::array* list = node.as_array();
    if (list == nullptr || list->empty()) {
      fail(pos(node), "sweep.cases must be a non-empty list of tables, e.g. [{ \"loss.plugin\" = \"wasserstein\", \"train.n_critic\" = 5 }]");
      return {{}};
    }
    const size_t n_axes = columns.size();
    std::vector<std::vector<Override>> out;
    for (const auto& c : *list) {
      const toml::table* t = c.as_table();
      if (t == nullptr) {
        fail(pos(c), "each sweep case must be a table of \"dotted.path\" = value");
        continue;
      }
      std::vector<Override> overrides;
      std::vector<std::pair<const toml::key*, const toml::node*>> keys;
      for (auto&& [key, value] : *t) keys.emplace_back(&key, &value);
      std::sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
        return before(SourcePos::of(file_, a.first->source()), SourcePos::of(file_, b.first->source()));
      });
      for (const auto& [key_ptr, value_ptr] : keys) {
        const toml::key& key = *key_ptr;
        const toml::node& value = *value_ptr;
        const SourcePos kpos = SourcePos::of(file_, key.source());
        if (key.str().find('.') == std::string_view::npos) {
          fail(kpos, fmt::format("case key '{}' must be a dotted path such as \"train.n_critic\"", key.str()));
          continue;
        }
        if (std::find(columns.begin(), columns.begin() + static_cast<std::ptrdiff_t>(n_axes), key.str()) !=
            columns.begin() + static_cast<std::ptrdiff_t>(n_axes)) {
          fail(kpos, fmt::format("case sets '{}', which is also a sweep axis: set it in one place", key.str()));
          continue;
        }
        if (std::find(columns.begin(), columns.end(), key.str()) == columns.end()) columns.emplace_back(key.str());
        overrides.push_back({std::string(key.str()), &value, value_pos(value, kpos), kpos});
      }
      out.push_back(std::move(overrides));
    }
    if (out.empty()) out.emplace_back();
    return out;
  }

  std::string file_;
  std::vector<std::string>& problems_;
};

}  // namespace

Sweep expand_sweep(const toml::table* sweep, const std::string& file, std::vector<std::string>& problems) {
  return Expander(file, problems).run(sweep);
}

}  // namespace gantry
