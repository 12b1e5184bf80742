#include "config/experiment.hpp"

#include "sweep/expand.hpp"
#include <gantry/sha256.hpp>
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <toml++/toml.h>
#include <tuple>

namespace gantry {

const std::vector<ParamSpec>& experiment_schema() {
  static const std::vector<ParamSpec> schema{
      string_param("name", "", "experiment name; runs are grouped under it (default: the file's stem)"),
      string_param("description", "", "free text shown in reports"),
      integer_list_param("seeds", {0}, "every sweep point runs once per seed", 0, 9.2e18),
      real_param("timeout", 0.0, "seconds a trial may run before it is stopped and marked failed (0 = no limit)", 0.0, {}),
  };
  return schema;
}

const std::vector<ParamSpec>& network_optimizer_schema() {
  static const std::vector<ParamSpec> schema{
      real_param("lr", 2e-4, "Adam learning rate of this network", 0.0, {}),
      real_param("beta1", 0.5, "Adam first-moment decay, below 1 (at 1 the bias correction divides by zero)", 0.0, 0.99999),
      real_param("beta2", 0.999, "Adam second-moment decay, below 1 (at 1 the bias correction divides by zero)", 0.0, 0.99999),
      real_param("eps", 1e-8, "Adam denominator epsilon", 0.0, {}),
  };
  return schema;
}

const std::vector<ParamSpec>& optimizer_schema() {
  static const std::vector<ParamSpec> schema = [] {
    std::vector<ParamSpec> s = network_optimizer_schema();
    s[0].doc = "Adam learning rate for G and D";
    s.push_back(string_param("lr_decay", "none",
                             "learning-rate schedule of both networks: none, or linear (step s of S trains at "
                             "lr·(S − s + 1)/S, reaching 0 as training ends)",
                             {"none", "linear"}));
    return s;
  }();
  return schema;
}

const std::vector<ParamSpec>& train_schema() {
  static const std::vector<ParamSpec> schema{
      integer_param("steps", 2000, "generator updates", 1, 1e12),
      integer_param("batch_size", 256, "samples per batch, real and fake each", 1, 1e8),
      integer_param("n_critic", 0, "discriminator updates per generator update (0 = the loss's own default: 5 for wasserstein, 1 for the others)", 0, 1000),
      real_param("r1_gamma", 0.0, "weight of the R1 penalty γ/2·‖∇x D(real)‖² added to any loss (Mescheder et al. 2018; 0 = off)", 0.0, {}),
      integer_param("log_every", 50, "record the losses every this many steps", 1, 1e12),
      integer_param("eval_every", 500, "evaluate the metrics every this many steps (and at 0 and the end)", 1, 1e12),
      integer_param("eval_samples", 2500, "size of the fixed evaluation sample G draws for metrics", 1, 1e8),
      integer_param("sample_grid", 8, "image data: side of the grid of evaluation samples saved as a PNG at each evaluation (0 = none)", 0, 64),
      integer_param("checkpoint_every", 0, "save a checkpoint (networks, optimizers, EMA, random streams) every this many steps, to resume an interrupted run from; one is always saved at the end (0 = only then)", 0, 1e12),
      integer_param("keep_checkpoints", 3, "keep the last this many checkpoints of a run besides the final one (0 = keep all)", 0, 1e6),
      real_param("g_ema", 0.0, "decay of an exponential moving average of G's weights and buffers; metrics are then computed on the average, G's own under 'raw.' (0 = off; 0.999 is usual)", 0.0, 0.999999),
      integer_param("g_ema_start", 0, "with g_ema: the average copies G until this step, then averages", 0, 1e12),
      boolean_param("conditional", false, "class-conditional GAN: real batches carry the data's labels, G and D are built for its classes and both see the labels (fake ones drawn uniformly)"),
  };
  return schema;
}

namespace {

namespace fs = std::filesystem;

constexpr PluginKind model_kinds[] = {PluginKind::data, PluginKind::generator, PluginKind::discriminator,
                                      PluginKind::loss};

// One key = value of a section, from the file or from a sweep override.
struct Entry {
  std::string key;
  const toml::node* value;
  SourcePos key_pos, value_pos;
};
using Section = std::vector<Entry>;

// Keys are parameter and section names: a few dozen characters. Far longer ones are hostile or
// a mistake, and would flood every message that echoes them.
constexpr size_t max_key_bytes = 200;
constexpr size_t max_problems = 50;
// String values (plugin names, paths, choices) are stored with every run: a megabyte in a sweep
// of 10⁵ trials would be 100 GB of database. The description is stored once per experiment.
constexpr size_t max_string_bytes = 4096;
constexpr size_t max_description_bytes = 65536;
constexpr size_t max_experiment_bytes = size_t{16} << 20;

size_t utf8_chars(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool has_control(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;  // C1
    // Bidirectional overrides and line separators (U+200E/F, U+2028–U+202E, U+2066–U+2069) make
    // a name display as something else.
    if (c == 0xE2 && i + 2 < s.size()) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]), c2 = static_cast<unsigned char>(s[i + 2]);
      if ((c1 == 0x80 && (c2 == 0x8E || c2 == 0x8F || (c2 >= 0xA8 && c2 <= 0xAE))) || (c1 == 0x81 && c2 >= 0xA6 && c2 <= 0xA9))
        return true;
    }
  }
  return false;
}

// A point of the sweep, resolved, with the text of each swept value.
using Point = std::pair<TrialConfig, std::vector<std::string>>;

class Parser {
 public:
  Parser(std::string file, const Registry& registry, const LoadOptions& options)
      : file_(std::move(file)), registry_(registry), options_(options) {}

  Experiment parse(std::string_view text) {
    Experiment exp;
    exp.file = file_;
    exp.source = std::string(text);
    toml::table root;
    try {
      root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
      fail(SourcePos::of(file_, e.source()), syntax_message(e.description()));
      finish();
    }
    // Text that cannot be stored or shown faithfully stops validation before anything echoes it.
    check_text(root, "");
    finish();
    read_sections(root);
    record_positions(exp);
    exp.metric_plugins = metrics_in_file_order();
    read_experiment(root["experiment"].as_table(), exp);
    std::vector<Point> points = resolve_points(root["sweep"].as_table(), exp);
    finish();
    make_trials(points, exp);
    return exp;
  }

 private:
  // Where each section and key is written, for problems found after parsing (preflight).
  void record_positions(Experiment& exp) {
    for (const auto& [section, at] : section_pos_) {
      exp.positions[section] = at;
      for (const Entry& e : sections_[section]) exp.positions[section + "." + e.key] = e.key_pos;
    }
  }

  // toml++ keeps keys sorted, so metric_order_ is alphabetical; the file's order is the author's.
  std::vector<std::string> metrics_in_file_order() {
    std::vector<std::string> sections = metric_order_;
    std::stable_sort(sections.begin(), sections.end(), [&](const std::string& a, const std::string& b) {
      const SourcePos &pa = section_pos_[a], &pb = section_pos_[b];
      return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
    });
    for (std::string& s : sections) s.erase(0, std::string_view("metrics.").size());
    return sections;
  }

  void check_text(const toml::node& node, const std::string& path) {
    if (const toml::table* t = node.as_table()) {
      for (auto&& [key, value] : *t) {
        const std::string_view k = key.str();
        if (k.find('\0') != std::string_view::npos) fail(pos(key), fmt::format("key \"{}\" contains a NUL character", k));
        else if (k.size() > max_key_bytes) fail(pos(key), fmt::format("key is {} bytes long, more than {}", k.size(), max_key_bytes));
        else check_text(value, path.empty() ? std::string(k) : fmt::format("{}.{}", path, k));
      }
    } else if (const toml::array* a = node.as_array()) {
      for (size_t i = 0; i < a->size(); ++i) check_text((*a)[i], fmt::format("{}[{}]", path, i));
    } else if (node.is_string()) {
      const std::string_view text = *node.value<std::string_view>();
      // The name has its own, tighter limit in characters (check_name).
      const size_t limit = path == "experiment.description" ? max_description_bytes
                           : path == "experiment.name"      ? std::numeric_limits<size_t>::max()
                                                            : max_string_bytes;
      if (text.find('\0') != std::string_view::npos) fail(pos(node), fmt::format("{} contains a NUL character", path));
      else if (text.size() > limit) fail(pos(node), fmt::format("{} is {} bytes long, more than {}", path, text.size(), limit));
    }
  }

  void read_sections(const toml::table& root) {
    static const std::vector<std::string> known{"data", "discriminator", "experiment", "generator", "loss",
                                                "metrics", "optimizer", "sweep", "train"};
    for (auto&& [key, node] : root) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        fail(pos(key), fmt::format("unknown section '{}' (available: {})", key.str(), fmt::join(known, ", ")));
      } else if (!node.is_table()) {
        fail(pos(key), fmt::format("'{}' must be a table ([{}])", key.str(), key.str()));
      } else if (key.str() == "metrics") {
        for (auto&& [name, sub] : *node.as_table()) {
          const std::string section = fmt::format("metrics.{}", name.str());
          if (!sub.is_table()) {
            fail(pos(name), fmt::format("[{}] must be a table of the metric's parameters", section));
            continue;
          }
          metric_order_.push_back(section);
          sections_[section] = entries(*sub.as_table());
          section_pos_[section] = pos(name);
        }
      } else if (key.str() == "optimizer") {
        read_optimizer(*node.as_table(), pos(key));
      } else if (key.str() != "sweep" && key.str() != "experiment") {
        sections_[std::string(key.str())] = entries(*node.as_table());
        section_pos_[std::string(key.str())] = pos(key);
      }
    }
  }

  static bool in_schema(const std::vector<ParamSpec>& schema, const std::string& name) {
    return std::any_of(schema.begin(), schema.end(), [&](const ParamSpec& p) { return p.name == name; });
  }

  // [optimizer] and its per-network sub-tables, each a section of its own ("optimizer.generator").
  void read_optimizer(const toml::table& table, const SourcePos& at) {
    Section& base = sections_["optimizer"];
    section_pos_["optimizer"] = at;
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const bool network = name == "generator" || name == "discriminator";
      if (network && !node.is_table()) {
        fail(pos(key), fmt::format("optimizer.{0} must be a table ([optimizer.{0}]) of lr, beta1, beta2, eps", name));
      } else if (network) {
        sections_["optimizer." + name] = entries(*node.as_table());
        section_pos_["optimizer." + name] = pos(key);
      } else if (node.is_table() && !in_schema(optimizer_schema(), name)) {  // a key's table value: said below
        fail(pos(key), fmt::format("[optimizer] has no sub-table '{}' (available: [optimizer.generator], "
                                   "[optimizer.discriminator])", name));
      } else {
        base.push_back({name, &node, pos(key), pos(node)});
      }
    }
  }

  void read_experiment(const toml::table* table, Experiment& exp) {
    const Section section = table ? entries(*table) : Section{};
    Params params = builtin(section, "experiment", experiment_schema());
    exp.name = params.string("name").empty() ? fs::path(file_).stem().string() : params.string("name");
    const Entry* name = find(section, "name");
    if (name && !params.string("name").empty()) check_name(exp.name, name->value_pos, "");
    else check_name(exp.name, {file_, 1, 1}, " (it is the file's name: set [experiment] name)");
    exp.description = params.string("description");
    exp.timeout = params.real("timeout");
    for (int64_t s : params.integers("seeds")) exp.seeds.push_back(static_cast<uint64_t>(s));
    const Entry* seeds = find(section, "seeds");
    if (seeds && seeds->value->is_array()) check_seeds(*seeds->value->as_array(), seeds->value_pos);
  }

  // The name labels tables, terminal lines and `gantry status NAME`: it must read back as written.
  // Control characters are refused rather than escaped, so the name a user sees is the one stored.
  void check_name(const std::string& name, const SourcePos& at, std::string_view from_file) {
    if (const size_t n = utf8_chars(name); n > max_name_chars)
      fail(at, fmt::format("experiment.name is {} characters long, more than {}{}", n, max_name_chars, from_file));
    else if (has_control(name))
      fail(at, fmt::format("experiment.name contains a control or text-direction character: it is shown in terminals "
                           "and typed on command lines{}", from_file));
    else if (name.find_first_not_of(" \t") == std::string::npos)
      fail(at, fmt::format("experiment.name is blank: give a name or leave it out to use the file's name{}", from_file));
  }

  // Seeds must be distinct (a repeated seed is a typo for another: dropping it silently would run
  // fewer trials than the list promises), and alone may not exceed the trial limit.
  void check_seeds(const toml::array& seeds, const SourcePos& at) {
    if (seeds.empty()) {
      fail(at, "experiment.seeds is empty: give at least one seed");
      return;
    }
    if (seeds.size() > options_.max_trials) {
      fail(at, fmt::format("experiment.seeds has {} seeds, more than --max-trials {}", seeds.size(), options_.max_trials));
      return;
    }
    std::set<int64_t> seen;
    for (const auto& s : seeds)
      if (s.is_integer() && !seen.insert(*s.value<int64_t>()).second)
        fail(pos(s), fmt::format("experiment.seeds lists seed {} more than once", *s.value<int64_t>()));
  }

  std::vector<Point> resolve_points(const toml::table* sweep_table, Experiment& exp) {
    if (exp.seeds.size() > options_.max_trials) {  // already reported
      resolve({});
      return {};
    }
    Sweep sweep = expand_sweep(sweep_table, file_, problems_, {std::max<uint64_t>(exp.seeds.size(), 1), options_.max_trials});
    exp.sweep_mode = sweep.mode;
    exp.sweep_columns = sweep.columns;
    std::vector<Point> points;
    for (const SweepPoint& point : sweep.points) {
      TrialConfig config = resolve(point.overrides);
      std::vector<std::string> swept(sweep.columns.size());
      for (const Override& o : point.overrides) {
        const auto col = std::find(sweep.columns.begin(), sweep.columns.end(), o.path) - sweep.columns.begin();
        swept[static_cast<size_t>(col)] = node_text(*o.value);
      }
      points.emplace_back(std::move(config), std::move(swept));
    }
    if (points.empty()) resolve({});  // a sweep refused whole: the sections are still checked
    return points;
  }

  static void make_trials(std::vector<Point>& points, Experiment& exp) {
    std::set<std::string> seen;
    for (auto& [config, swept] : points)
      for (size_t i = 0; i < exp.seeds.size(); ++i) {
        const uint64_t seed = exp.seeds[i];
        // The last seed takes the point's config: a 10⁵-trial sweep holds one copy, not two.
        const bool last = i + 1 == exp.seeds.size();
        Trial t{exp.trials.size(), last ? std::move(config) : config, last ? std::move(swept) : swept, "", ""};
        t.config.seed = seed;
        t.config_identity = config_identity(t.config);
        t.identity = trial_identity(t.config);
        if (!seen.insert(t.identity).second) {
          ++exp.duplicates;
          continue;
        }
        exp.trials.push_back(std::move(t));
      }
  }

 private:
  SourcePos pos(const toml::node& n) const { return SourcePos::of(file_, n.source()); }
  SourcePos pos(const toml::key& k) const { return SourcePos::of(file_, k.source()); }
  static const Entry* find(const Section& s, std::string_view key) {
    const auto it = std::find_if(s.begin(), s.end(), [&](const Entry& e) { return e.key == key; });
    return it == s.end() ? nullptr : &*it;
  }
  void fail(const SourcePos& p, const std::string& message) {
    std::string line = problem_line(p, message);
    if (reported_.insert(line).second) problems_.push_back(std::move(line));  // once, however many trials hit it
  }
  // toml++ 3.3 prints a quoted duplicate key garbled ("''a'a' '"); the place is right, so the
  // message only needs to say what is wrong.
  static std::string syntax_message(std::string_view description) {
    const size_t at = description.find("cannot redefine existing");
    if (at == std::string_view::npos || description.find(" table ") != std::string_view::npos)
      return std::string(description);
    return fmt::format("{}duplicate key: already defined in this table (\"k\", 'k' and k are the same key)",
                       description.substr(0, at));
  }
  // Problems in file order (toml++ iterates keys sorted). A random sweep can draw thousands of
  // distinct bad values: the first few say what is wrong.
  void finish() {
    if (problems_.empty()) return;
    const size_t prefix = printable(file_).size() + 1;  // "file:"
    auto place = [&](const std::string& line) {
      int64_t l = 0, c = 0;
      const char* end = line.data() + line.size();
      auto r = std::from_chars(line.data() + std::min(line.size(), prefix), end, l);
      if (r.ptr < end && *r.ptr == ':') std::from_chars(r.ptr + 1, end, c);
      return std::pair(l, c);
    };
    std::stable_sort(problems_.begin(), problems_.end(),
                     [&](const std::string& a, const std::string& b) { return place(a) < place(b); });
    if (problems_.size() <= max_problems) throw ConfigError(fmt::format("{}", fmt::join(problems_, "\n")));
    throw ConfigError(fmt::format("{}\n... and {} more problems", fmt::join(problems_.begin(), problems_.begin() + max_problems, "\n"),
                                  problems_.size() - max_problems));
  }

  Section entries(const toml::table& t) const {
    Section out;
    for (auto&& [key, node] : t) out.push_back({std::string(key.str()), &node, pos(key), pos(node)});
    return out;
  }

  // The sections with this point's overrides applied; problems for paths that name nothing.
  TrialConfig resolve(const std::vector<Override>& overrides) {
    std::map<std::string, Section> sections = sections_;
    std::vector<std::string> metric_order = metric_order_;
    std::map<std::string, SourcePos> section_pos = section_pos_;
    for (const Override& o : overrides) {
      std::string section, key;
      const size_t dot = o.path.rfind('.');
      section = o.path.substr(0, dot);
      key = o.path.substr(dot + 1);
      static const std::vector<std::string> sweepable{"data",      "discriminator",           "generator",
                                                      "loss",      "optimizer",               "optimizer.generator",
                                                      "optimizer.discriminator", "train"};
      const bool metric = section.starts_with("metrics.") && section.find('.', 8) == std::string::npos;
      if (!metric && std::find(sweepable.begin(), sweepable.end(), section) == sweepable.end()) {
        fail(o.key_pos, fmt::format("sweep path '{}' names nothing: expected SECTION.KEY with SECTION one of {} "
                                "or metrics.NAME", o.path, fmt::join(sweepable, ", ")));
        continue;
      }
      if (metric && std::find(metric_order.begin(), metric_order.end(), section) == metric_order.end()) {
        metric_order.push_back(section);
        section_pos[section] = o.key_pos;
      }
      Section& s = sections[section];
      auto it = std::find_if(s.begin(), s.end(), [&](const Entry& e) { return e.key == key; });
      if (it != s.end()) it->value = o.value, it->key_pos = o.key_pos, it->value_pos = o.pos;
      else s.push_back({key, o.value, o.key_pos, o.pos});
    }

    TrialConfig config;
    PluginChoice* targets[] = {&config.data, &config.generator, &config.discriminator, &config.loss};
    for (size_t i = 0; i < 4; ++i) {
      const std::string name = to_string(model_kinds[i]);
      auto it = sections.find(name);
      if (it == sections.end()) {
        fail({file_, 1, 1}, fmt::format("missing section [{}] with plugin = one of: {}", name,
                                        fmt::join(registry_.names(model_kinds[i]), ", ")));
        continue;
      }
      plugin_section(it->second, section_pos[name], name, model_kinds[i], targets[i]);
    }
    for (const std::string& section : metric_order) {
      const std::string name = section.substr(8);
      const PluginLibrary* lib = registry_.find(PluginKind::metric, name);
      if (lib == nullptr) {
        fail(section_pos[section], unknown_plugin_message(registry_, PluginKind::metric, name));
        continue;
      }
      PluginChoice choice{section, lib, Params::defaults(lib->descriptor->params)};
      fill_params(sections[section], section, *lib, choice.params);
      config.metrics.push_back(std::move(choice));
    }
    config.optimizer = builtin(sections["optimizer"], "optimizer", optimizer_schema());
    config.generator_optimizer = network_optimizer(sections, "optimizer.generator", config.optimizer);
    config.discriminator_optimizer = network_optimizer(sections, "optimizer.discriminator", config.optimizer);
    config.train = builtin(sections["train"], "train", train_schema());
    return config;
  }

  // [optimizer]'s lr, beta1, beta2, eps, overridden by what the network's sub-table sets.
  NetworkOptimizer network_optimizer(const std::map<std::string, Section>& sections, const std::string& section,
                                     const Params& base) {
    Params defaults;
    for (const ParamSpec& spec : network_optimizer_schema()) defaults.set(spec.name, base.get(spec.name));
    const auto it = sections.find(section);
    if (it == sections.end()) return {std::move(defaults), false};
    return {builtin(it->second, section, network_optimizer_schema(), &defaults), true};
  }

  // A TOML value as a parameter value; nullopt (with a problem recorded) for tables and mixed arrays.
  std::optional<ParamValue> value_of(const toml::node& n, const SourcePos& at, const std::string& what) {
    if (n.is_boolean()) return ParamValue(*n.value<bool>());
    if (n.is_integer()) return ParamValue(*n.value<int64_t>());
    if (n.is_floating_point()) return ParamValue(*n.value<double>());
    if (n.is_string()) return ParamValue(*n.value<std::string>());
    if (const toml::array* a = n.as_array()) {
      bool all_int = true, all_num = true;
      for (const auto& e : *a) {
        all_int = all_int && e.is_integer();
        all_num = all_num && (e.is_integer() || e.is_floating_point());
      }
      if (all_int) {
        std::vector<int64_t> out;
        for (const auto& e : *a) out.push_back(*e.value<int64_t>());
        return ParamValue(std::move(out));
      }
      if (all_num) {
        std::vector<double> out;
        for (const auto& e : *a) out.push_back(*e.value<double>());
        return ParamValue(std::move(out));
      }
      fail(at, fmt::format("{}: only lists of numbers are supported", what));
      return std::nullopt;
    }
    fail(at, fmt::format("{}: expected a value, found {}", what, n.is_table() ? "a table" : "a date or time"));
    return std::nullopt;
  }

  void unknown_key(const Entry& e, const std::string& owner, const std::vector<ParamSpec>& schema, bool plugin) {
    std::vector<std::string> names;
    for (const auto& spec : schema) names.push_back(spec.name);
    std::string msg = plugin ? fmt::format("{} has no parameter '{}' (accepts: {})", owner, e.key,
                                           names.empty() ? std::string("no parameters") : fmt::format("{}", fmt::join(names, ", ")))
                             : fmt::format("{} has no key '{}' (accepts: {})", owner, e.key, fmt::join(names, ", "));
    const auto close = closest_names(e.key, names);
    if (!close.empty()) msg += fmt::format("; did you mean '{}'?", close.front());
    fail(e.key_pos, msg);
  }

  void set_checked(const ParamSpec& spec, const Entry& e, const std::string& path, const std::string& owner,
                   Params& params) {
    auto value = value_of(*e.value, e.value_pos, path);
    if (!value) return;
    auto checked = check_value(spec, *value);
    if (auto* err = std::get_if<std::string>(&checked)) {
      std::string doc = spec.doc.empty() ? "" : fmt::format(" — {}", spec.doc);
      fail(e.value_pos, fmt::format("{} of {}: {}{}", path, owner, *err, doc));
      return;
    }
    params.set(spec.name, std::get<ParamValue>(std::move(checked)));
  }

  void fill_params(const Section& s, const std::string& section, const PluginLibrary& lib, Params& params) {
    const auto& schema = lib.descriptor->params;
    const std::string owner = fmt::format("{} '{}'", to_string(lib.kind()), lib.name());
    for (const Entry& e : s) {
      if (e.key == "plugin" && !section.starts_with("metrics.")) continue;
      const auto spec = std::find_if(schema.begin(), schema.end(), [&](const ParamSpec& p) { return p.name == e.key; });
      if (spec == schema.end()) unknown_key(e, owner, schema, true);
      else set_checked(*spec, e, fmt::format("{}.{}", section, e.key), owner, params);
    }
  }

  void plugin_section(const Section& s, const SourcePos& at, const std::string& section, PluginKind kind,
                      PluginChoice* out) {
    const auto plugin = std::find_if(s.begin(), s.end(), [](const Entry& e) { return e.key == "plugin"; });
    if (plugin == s.end() || !plugin->value->is_string()) {
      fail(plugin == s.end() ? at : plugin->value_pos,
           fmt::format("[{}] needs plugin = \"NAME\" (available: {})", section, fmt::join(registry_.names(kind), ", ")));
      return;
    }
    const std::string name = *plugin->value->value<std::string>();
    const PluginLibrary* lib = registry_.find(kind, name);
    if (lib == nullptr) {
      fail(plugin->value_pos, unknown_plugin_message(registry_, kind, name));
      return;
    }
    out->section = section;
    out->library = lib;
    out->params = Params::defaults(lib->descriptor->params);
    fill_params(s, section, *lib, out->params);
  }

  Params builtin(const Section& s, const std::string& section, const std::vector<ParamSpec>& schema,
                 const Params* defaults = nullptr) {
    Params params = defaults != nullptr ? *defaults : Params::defaults(schema);
    for (const Entry& e : s) {
      const auto spec = std::find_if(schema.begin(), schema.end(), [&](const ParamSpec& p) { return p.name == e.key; });
      if (spec == schema.end()) unknown_key(e, fmt::format("[{}]", section), schema, false);
      else set_checked(*spec, e, fmt::format("{}.{}", section, e.key), fmt::format("[{}]", section), params);
    }
    return params;
  }

  std::string file_;
  const Registry& registry_;
  LoadOptions options_;
  std::map<std::string, Section> sections_;
  std::map<std::string, SourcePos> section_pos_;
  std::vector<std::string> metric_order_;
  std::vector<std::string> problems_;
  std::set<std::string> reported_;
};

void add_leaves(std::vector<std::pair<std::string, ParamValue>>& out, const std::string& prefix, const Params& p) {
  for (const auto& [k, v] : p.all()) out.emplace_back(fmt::format("{}.{}", prefix, k), v);
}

}  // namespace

std::vector<std::pair<std::string, ParamValue>> config_leaves(const TrialConfig& trial) {
  std::vector<std::pair<std::string, ParamValue>> out;
  for (const PluginChoice* c : {&trial.data, &trial.generator, &trial.discriminator, &trial.loss}) {
    out.emplace_back(c->section + ".plugin", c->plugin());
    add_leaves(out, c->section, c->params);
  }
  for (const PluginChoice& m : trial.metrics) add_leaves(out, m.section, m.params);
  add_leaves(out, "optimizer", trial.optimizer);
  // A network's own settings are leaves only where the experiment has its sub-table, so an
  // experiment without them has the leaves (and compare columns) it had before TTUR existed.
  if (trial.generator_optimizer.overridden) add_leaves(out, "optimizer.generator", trial.generator_optimizer.params);
  if (trial.discriminator_optimizer.overridden)
    add_leaves(out, "optimizer.discriminator", trial.discriminator_optimizer.params);
  add_leaves(out, "train", trial.train);
  return out;
}

std::vector<const PluginChoice*> TrialConfig::plugins() const {
  std::vector<const PluginChoice*> out{&data, &generator, &discriminator, &loss};
  for (const PluginChoice& m : metrics) out.push_back(&m);
  return out;
}

namespace {
// Leaves that do not change what a trial computes stay out of its identity, so saving checkpoints
// more or less often does not rerun a completed trial; nor do the EMA's settings while it is off,
// so runs without it keep the identities they had before it existed.
bool in_identity(const std::string& key, const TrialConfig& trial) {
  if (key == "train.checkpoint_every" || key == "train.keep_checkpoints") return false;
  if (key == "train.g_ema" || key == "train.g_ema_start") return trial.train.real("g_ema") > 0;
  return true;
}
}  // namespace

std::string config_identity(const TrialConfig& trial) {
  Sha256 h;
  h.update("gantry-trial-v1\n");
  for (const auto& [k, v] : config_leaves(trial))
    if (in_identity(k, trial)) h.update(fmt::format("{}={}\n", k, to_string(v)));
  h.update(fmt::format("seed={}\n", trial.seed));
  return h.hex();
}

// Built on the config identity rather than hashing everything afresh, so that a database written
// before the plugin hashes were part of the identity can be migrated from what it stored.
std::string trial_identity(const std::string& config_identity, std::vector<std::pair<std::string, std::string>> builds) {
  std::sort(builds.begin(), builds.end());
  Sha256 h;
  h.update("gantry-trial-v2\n");
  h.update(config_identity + "\n");
  for (const auto& [section, sha256] : builds) h.update(fmt::format("{}={}\n", section, sha256));
  return h.hex();
}

std::string trial_identity(const TrialConfig& trial) {
  std::vector<std::pair<std::string, std::string>> builds;
  for (const PluginChoice* c : trial.plugins()) builds.emplace_back(c->section, c->library->sha256);
  return trial_identity(config_identity(trial), std::move(builds));
}

SourcePos Experiment::position_of(const std::string& path) const {
  for (std::string p = path;; p = p.substr(0, p.rfind('.'))) {
    if (auto it = positions.find(p); it != positions.end()) return it->second;
    if (p.find('.') == std::string::npos) return {file, 1, 1};
  }
}

Experiment parse_experiment(std::string_view text, const std::string& file, const Registry& registry,
                            const LoadOptions& options) {
  return Parser(file, registry, options).parse(text);
}

Experiment load_experiment(const fs::path& file, const Registry& registry, const LoadOptions& options) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("cannot open experiment file {}", file.string()));
  // Read at most one byte past the limit: /dev/zero or a runaway generated file is a message,
  // not an exhausted memory.
  std::string text(max_experiment_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > max_experiment_bytes)
    throw ConfigError(fmt::format("{}: experiment file is larger than {} MiB", file.string(), max_experiment_bytes >> 20));
  return parse_experiment(text, file.string(), registry, options);
}

}  // namespace gantry
