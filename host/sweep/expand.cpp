#include "sweep/expand.hpp"

#include <gantry/random.hpp>

#include <algorithm>
#include <cctype>
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
constexpr uint64_t no_count = std::numeric_limits<uint64_t>::max();

bool before(const SourcePos& a, const SourcePos& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

bool is_reserved(std::string_view key) {
  for (const char* r : reserved)
    if (key == r) return true;
  return false;
}

// Saturates at no_count: a count that large is refused whatever the limit.
uint64_t times(uint64_t a, uint64_t b) {
  uint64_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? no_count : out;
}

std::string plural(uint64_t n, std::string_view word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

// Why `path` cannot be a sweep path, or "" when it can (it may still name nothing: the
// experiment's sections decide that).
std::string path_problem(std::string_view path) {
  if (path.starts_with('.') || path.ends_with('.') || path.find("..") != std::string_view::npos)
    return fmt::format("sweep path '{}' has an empty segment", path);
  for (char c : path)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return fmt::format("sweep path '{}' has the character '{}', which no section or parameter name has", path,
                         std::string(1, c));
  if (path == "experiment.seeds")
    return "experiment.seeds cannot be swept: every sweep point already runs once per seed of [experiment] seeds";
  if (path.starts_with("experiment."))
    return fmt::format("sweep path '{}' cannot be swept: [experiment] settings apply to the whole experiment", path);
  return "";
}

// One axis: its path and how to draw from it.
struct Axis {
  std::string path;
  SourcePos pos;                              // of the key
  std::vector<const toml::node*> choices;     // grid values, or random choices
  std::string distribution = "choice";        // choice | uniform | log_uniform | int
  double lo = 0, hi = 0;
  int64_t int_lo = 0, int_hi = 0;             // int: exact, as doubles lose them beyond 2^53
};

// The [sweep] table's settings, read before any axis.
struct Settings {
  bool random = false;
  int64_t trials = 0;
  SourcePos trials_pos;
  uint64_t seed = 0;
};

class Expander {
 public:
  Expander(std::string file, std::vector<std::string>& problems, const SweepLimit& limit)
      : file_(std::move(file)), problems_(problems), limit_(limit) {}

  Sweep run(const toml::table* t) {
    Sweep sweep;
    if (t == nullptr) {
      sweep.points.emplace_back();
      return sweep;
    }
    const Settings settings = read_settings(*t, sweep);
    size_t axis_keys = 0;
    std::vector<Axis> axes = read_axes(*t, settings.random, axis_keys);
    for (const Axis& a : axes) sweep.columns.push_back(a.path);

    std::vector<std::vector<Override>> cases{{}};
    const toml::node* cases_node = t->get("cases");
    if (cases_node) cases = parse_cases(*cases_node, sweep.columns);
    if (axis_keys == 0 && cases_node == nullptr) {
      fail(pos(*t), "[sweep] has nothing to sweep: add \"SECTION.KEY\" = [values] or cases = [...], or remove [sweep]");
      return sweep;
    }
    if (settings.random && axis_keys == 0) {
      fail(pos(*t), "mode = \"random\" needs at least one axis to draw from, such as \"optimizer.lr\" = { log_uniform = [1e-5, 1e-3] }");
      return sweep;
    }
    if (!within_limit(*t, settings, axes, cases.size())) return sweep;

    const std::vector<std::vector<Override>> base = settings.random ? random_points(settings, axes, sweep) : grid_points(axes);
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
  void fail(const SourcePos& p, const std::string& msg) { problems_.push_back(problem_line(p, msg)); }

  Settings read_settings(const toml::table& t, Sweep& sweep) {
    Settings s;
    if (const toml::node* m = t.get("mode")) {
      if (m->is_string() && (*m->value<std::string>() == "grid" || *m->value<std::string>() == "random"))
        sweep.mode = *m->value<std::string>();
      else
        fail(pos(*m), "sweep.mode must be \"grid\" or \"random\"");
    }
    s.random = sweep.mode == "random";
    if (const toml::node* n = t.get("trials")) {
      s.trials_pos = pos(*n);
      if (!s.random) fail(pos(*n), "sweep.trials applies to mode = \"random\" only");
      else if (!n->is_integer() || *n->value<int64_t>() < 1) fail(pos(*n), "sweep.trials must be a positive integer");
      else s.trials = *n->value<int64_t>();
    } else if (s.random) {
      fail(pos(t), "mode = \"random\" needs trials = N");
    }
    if (const toml::node* n = t.get("seed")) {
      if (!n->is_integer() || *n->value<int64_t>() < 0) fail(pos(*n), "sweep.seed must be a non-negative integer");
      else s.seed = static_cast<uint64_t>(*n->value<int64_t>());
    }
    return s;
  }

  // The axes in file order (toml++ keeps a table's keys sorted; the file's order is the one a
  // researcher expects). `keys` counts every axis key written, valid or not.
  std::vector<Axis> read_axes(const toml::table& t, bool random, size_t& keys) {
    std::vector<Axis> axes;
    for (auto&& [key, node] : t) {
      if (is_reserved(key.str())) continue;
      ++keys;
      const SourcePos kpos = SourcePos::of(file_, key.source());
      if (key.str().find('.') == std::string_view::npos) {
        fail(kpos, fmt::format("sweep axis '{}' must be a dotted path such as \"optimizer.lr\" or \"loss.plugin\" "
                               "(quote it: \"{}\" = [...]); reserved keys: mode, trials, seed, cases",
                               key.str(), key.str()));
        continue;
      }
      if (const std::string why = path_problem(key.str()); !why.empty()) {
        fail(kpos, why);
        continue;
      }
      Axis axis{std::string(key.str()), kpos, {}, "choice", 0, 0, 0, 0};
      if (parse_axis(node, axis, random)) axes.push_back(std::move(axis));
    }
    std::stable_sort(axes.begin(), axes.end(), [](const Axis& a, const Axis& b) { return before(a.pos, b.pos); });
    return axes;
  }

  // Trials = points × seeds, counted from lengths alone; over the limit is a problem at the
  // place that decides the count (`trials` for a random search, [sweep] for a grid).
  bool within_limit(const toml::table& t, const Settings& s, const std::vector<Axis>& axes, size_t n_cases) {
    std::vector<std::string> factors;
    uint64_t count = 1;
    if (s.random) {
      count = static_cast<uint64_t>(s.trials);
      factors.push_back(fmt::format("{} random points", s.trials));
    } else {
      for (const Axis& a : axes) {
        count = times(count, a.choices.size());
        factors.push_back(std::to_string(a.choices.size()));
      }
    }
    if (t.get("cases")) {
      count = times(count, n_cases);
      factors.push_back(plural(n_cases, "case"));
    }
    count = times(count, limit_.seeds);
    factors.push_back(plural(limit_.seeds, "seed"));
    if (count <= limit_.max_trials) return true;
    const std::string total = count == no_count ? fmt::format("more than {}", no_count) : std::to_string(count);
    fail(s.random ? s.trials_pos : pos(t), fmt::format("sweep has {} trials ({}), more than --max-trials {}", total,
                                                        fmt::join(factors, " × "), limit_.max_trials));
    return false;
  }

  std::vector<std::vector<Override>> random_points(const Settings& s, const std::vector<Axis>& axes, Sweep& sweep) {
    std::vector<std::vector<Override>> out;
    Rng rng(derive_seed(s.seed, "sweep.random"));
    for (int64_t i = 0; i < s.trials; ++i) {
      std::vector<Override> point;
      for (const Axis& a : axes) point.push_back({a.path, draw(a, rng, sweep), a.pos, a.pos});
      out.push_back(std::move(point));
    }
    return out;
  }

  std::vector<std::vector<Override>> grid_points(const std::vector<Axis>& axes) const {
    std::vector<std::vector<Override>> out{{}};
    for (const Axis& a : axes) {
      std::vector<std::vector<Override>> next;
      for (const auto& partial : out)
        for (const toml::node* v : a.choices) {
          auto p = partial;
          p.push_back({a.path, v, value_pos(*v, a.pos), a.pos});
          next.push_back(std::move(p));
        }
      out = std::move(next);
    }
    return out;
  }

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
    return parse_bounds(*list, axis);
  }

  bool parse_bounds(const toml::array& list, Axis& axis) {
    axis.lo = *list[0].value<double>();
    axis.hi = *list[1].value<double>();
    if (!std::isfinite(axis.lo) || !std::isfinite(axis.hi)) {
      fail(axis.pos, fmt::format("sweep axis '{}': {} bounds must be finite numbers, found [{}, {}]", axis.path,
                                 axis.distribution, axis.lo, axis.hi));
      return false;
    }
    const bool ints = axis.distribution == "int";
    if (!(axis.lo <= axis.hi) || (axis.distribution == "log_uniform" && axis.lo <= 0) ||
        (ints && (!list[0].is_integer() || !list[1].is_integer()))) {
      fail(axis.pos, fmt::format("sweep axis '{}': bad range for {} [{}, {}]{}", axis.path, axis.distribution, axis.lo,
                                 axis.hi, axis.distribution == "log_uniform" ? " (needs 0 < lo <= hi)"
                                          : ints ? " (needs integers lo <= hi)" : " (needs lo <= hi)"));
      return false;
    }
    if (ints) {
      axis.int_lo = *list[0].value<int64_t>();
      axis.int_hi = *list[1].value<int64_t>();
    } else if (!std::isfinite(axis.hi - axis.lo)) {
      fail(axis.pos, fmt::format("sweep axis '{}': {} range [{}, {}] is wider than the largest number", axis.path,
                                 axis.distribution, axis.lo, axis.hi));
      return false;
    }
    return true;
  }

  const toml::node* draw(const Axis& a, Rng& rng, Sweep& sweep) {
    if (a.distribution == "choice") return a.choices[rng.below(a.choices.size())];
    std::unique_ptr<toml::node> v;
    if (a.distribution == "int") {
      // In unsigned arithmetic, where [INT64_MIN, INT64_MAX] has width 2^64 - 1 without overflow.
      const uint64_t width = static_cast<uint64_t>(a.int_hi) - static_cast<uint64_t>(a.int_lo);
      const uint64_t offset = width == no_count ? rng.next_u64() : rng.below(width + 1);
      v = std::make_unique<toml::value<int64_t>>(static_cast<int64_t>(static_cast<uint64_t>(a.int_lo) + offset));
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
      if (t->empty()) {
        fail(pos(c), "sweep case sets nothing: give it \"dotted.path\" = value pairs or remove it");
        continue;
      }
      out.push_back(parse_case(*t, columns, n_axes));
    }
    if (out.empty()) out.emplace_back();
    return out;
  }

  std::vector<Override> parse_case(const toml::table& t, std::vector<std::string>& columns, size_t n_axes) {
    std::vector<Override> overrides;
    std::vector<std::pair<const toml::key*, const toml::node*>> keys;
    for (auto&& [key, value] : t) keys.emplace_back(&key, &value);
    std::sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
      return before(SourcePos::of(file_, a.first->source()), SourcePos::of(file_, b.first->source()));
    });
    for (const auto& [key_ptr, value_ptr] : keys) {
      const auto axes_end = columns.begin() + static_cast<std::ptrdiff_t>(n_axes);  // columns grows below
      const std::string key(key_ptr->str());
      const SourcePos kpos = SourcePos::of(file_, key_ptr->source());
      if (key.find('.') == std::string::npos) {
        fail(kpos, fmt::format("case key '{}' must be a dotted path such as \"train.n_critic\"", key));
        continue;
      }
      if (const std::string why = path_problem(key); !why.empty()) {
        fail(kpos, why);
        continue;
      }
      if (std::find(columns.begin(), axes_end, key) != axes_end) {
        fail(kpos, fmt::format("case sets '{}', which is also a sweep axis: set it in one place", key));
        continue;
      }
      if (std::find(columns.begin(), columns.end(), key) == columns.end()) columns.push_back(key);
      overrides.push_back({key, value_ptr, value_pos(*value_ptr, kpos), kpos});
    }
    return overrides;
  }

  std::string file_;
  std::vector<std::string>& problems_;
  SweepLimit limit_;
};

}  // namespace

Sweep expand_sweep(const toml::table* sweep, const std::string& file, std::vector<std::string>& problems,
                   const SweepLimit& limit) {
  return Expander(file, problems, limit).run(sweep);
}

}  // namespace gantry
