#include "config/experiment.hpp"

#include "util/sha256.hpp"
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace gantry {

std::string SourcePos::str() const { return fmt::format("{}:{}:{}", file, line, column); }

const std::vector<ParamSpec>& experiment_schema() {
  static const std::vector<ParamSpec> schema{
      string_param("name", "", "experiment name; runs are grouped under it (default: the file's stem)"),
      string_param("description", "", "free text shown in reports"),
      integer_list_param("seeds", {0}, "one trial per seed", 0, 9.2e18),
  };
  return schema;
}

const std::vector<ParamSpec>& optimizer_schema() {
  static const std::vector<ParamSpec> schema{
      real_param("lr", 2e-4, "Adam learning rate for G and D", 0.0, {}),
      real_param("beta1", 0.5, "Adam first-moment decay", 0.0, 1.0),
      real_param("beta2", 0.999, "Adam second-moment decay", 0.0, 1.0),
      real_param("eps", 1e-8, "Adam denominator epsilon", 0.0, {}),
  };
  return schema;
}

const std::vector<ParamSpec>& train_schema() {
  static const std::vector<ParamSpec> schema{
      integer_param("steps", 2000, "generator updates", 1, 1e12),
      integer_param("batch_size", 256, "samples per batch, real and fake each", 1, 1e8),
      integer_param("n_critic", 1, "discriminator updates per generator update", 1, 1000),
      integer_param("log_every", 50, "record the losses every this many steps", 1, 1e12),
      integer_param("eval_every", 500, "evaluate the metrics every this many steps (and at 0 and the end)", 1, 1e12),
      integer_param("eval_samples", 2500, "size of the fixed evaluation sample G draws for metrics", 1, 1e8),
  };
  return schema;
}

namespace {

namespace fs = std::filesystem;

constexpr PluginKind model_kinds[] = {PluginKind::data, PluginKind::generator, PluginKind::discriminator,
                                      PluginKind::loss};

class Parser {
 public:
  Parser(std::string file, const Registry& registry) : file_(std::move(file)), registry_(registry) {}

  Experiment parse(std::string_view text) {
    Experiment exp;
    exp.file = file_;
    exp.source = std::string(text);
    toml::table root;
    try {
      root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      fail({file_, b.line, b.column}, std::string(e.description()));
      finish();
    }

    const toml::table empty;
    auto section = [&](std::string_view name) -> const toml::table* {
      const toml::node* n = root.get(name);
      if (n == nullptr) return nullptr;
      if (!n->is_table()) {
        fail(pos(*n), fmt::format("'{}' must be a table ([{}])", name, name));
        return nullptr;
      }
      return n->as_table();
    };

    for (auto&& [key, node] : root) {
      static const std::vector<std::string> known{"data", "discriminator", "experiment", "generator",
                                                  "loss", "metrics", "optimizer", "train"};
      if (std::find(known.begin(), known.end(), key.str()) == known.end())
        fail(pos(key), fmt::format("unknown section '{}' (available: {})", key.str(), fmt::join(known, ", ")));
    }

    Params exp_params = builtin(section("experiment"), "experiment", experiment_schema());
    exp.name = exp_params.string("name").empty() ? fs::path(file_).stem().string() : exp_params.string("name");
    for (int64_t s : exp_params.integers("seeds")) exp.seeds.push_back(static_cast<uint64_t>(s));
    if (exp.seeds.empty()) fail({file_, 1, 1}, "experiment.seeds is empty: give at least one seed");

    PluginChoice* targets[] = {&exp.base.data, &exp.base.generator, &exp.base.discriminator, &exp.base.loss};
    for (size_t i = 0; i < 4; ++i) {
      const PluginKind kind = model_kinds[i];
      const std::string name = to_string(kind);
      const toml::table* t = section(name);
      if (t == nullptr) {
        if (root.get(name) == nullptr)
          fail({file_, 1, 1}, fmt::format("missing section [{}] with plugin = one of: {}", name,
                                          fmt::join(registry_.names(kind), ", ")));
        continue;
      }
      plugin_section(*t, name, kind, targets[i]);
    }

    if (const toml::table* metrics = section("metrics")) {
      for (auto&& [key, node] : *metrics) {
        const std::string section_name = fmt::format("metrics.{}", key.str());
        const PluginLibrary* lib = registry_.find(PluginKind::metric, key.str());
        if (lib == nullptr) {
          fail(pos(key), unknown_plugin_message(registry_, PluginKind::metric, key.str()));
          continue;
        }
        if (!node.is_table()) {
          fail(pos(node), fmt::format("[{}] must be a table of the metric's parameters", section_name));
          continue;
        }
        PluginChoice choice{section_name, lib, Params::defaults(lib->descriptor->params)};
        fill_params(*node.as_table(), section_name, *lib, choice.params, /*skip_plugin_key=*/false);
        exp.base.metrics.push_back(std::move(choice));
      }
    }

    exp.base.optimizer = builtin(section("optimizer"), "optimizer", optimizer_schema());
    exp.base.train = builtin(section("train"), "train", train_schema());
    finish();
    return exp;
  }

 private:
  SourcePos pos(const toml::node& n) const { return from(n.source()); }
  SourcePos pos(const toml::key& k) const { return from(k.source()); }
  SourcePos from(const toml::source_region& r) const {
    return {file_, r.begin.line ? static_cast<int64_t>(r.begin.line) : 1,
            r.begin.column ? static_cast<int64_t>(r.begin.column) : 1};
  }
  void fail(SourcePos p, std::string message) { problems_.push_back(p.str() + ": " + message); }
  void finish() {
    if (!problems_.empty()) throw ConfigError(fmt::format("{}", fmt::join(problems_, "\n")));
  }

  // A TOML value as a parameter value; nullopt (with a problem recorded) for tables and mixed arrays.
  std::optional<ParamValue> value_of(const toml::node& n, const std::string& what) {
    if (auto v = n.value<bool>(); n.is_boolean()) return ParamValue(*v);
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
      fail(pos(n), fmt::format("{}: only lists of numbers are supported", what));
      return std::nullopt;
    }
    fail(pos(n), fmt::format("{}: expected a value, found a table", what));
    return std::nullopt;
  }

  void fill_params(const toml::table& t, const std::string& section, const PluginLibrary& lib, Params& params,
                   bool skip_plugin_key) {
    const auto& schema = lib.descriptor->params;
    for (auto&& [key, node] : t) {
      if (skip_plugin_key && key.str() == "plugin") continue;
      const auto spec = std::find_if(schema.begin(), schema.end(), [&](const ParamSpec& s) { return s.name == key.str(); });
      const std::string owner = fmt::format("{} '{}'", to_string(lib.kind()), lib.name());
      if (spec == schema.end()) {
        std::vector<std::string> names;
        for (const auto& s : schema) names.push_back(s.name);
        std::string msg = fmt::format("{} has no parameter '{}' (accepts: {})", owner, key.str(),
                                      names.empty() ? std::string("no parameters") : fmt::format("{}", fmt::join(names, ", ")));
        const auto close = closest_names(key.str(), names);
        if (!close.empty()) msg += fmt::format("; did you mean '{}'?", close.front());
        fail(pos(key), msg);
        continue;
      }
      set_checked(*spec, node, fmt::format("{}.{}", section, key.str()), owner, params);
    }
  }

  void set_checked(const ParamSpec& spec, const toml::node& node, const std::string& path, const std::string& owner,
                   Params& params) {
    auto value = value_of(node, path);
    if (!value) return;
    auto checked = check_value(spec, *value);
    if (auto* err = std::get_if<std::string>(&checked)) {
      std::string doc = spec.doc.empty() ? "" : fmt::format(" — {}", spec.doc);
      fail(pos(node), fmt::format("{} of {}: {}{}", path, owner, *err, doc));
      return;
    }
    params.set(spec.name, std::get<ParamValue>(std::move(checked)));
  }

  void plugin_section(const toml::table& t, const std::string& section, PluginKind kind, PluginChoice* out) {
    const toml::node* plugin = t.get("plugin");
    if (plugin == nullptr || !plugin->is_string()) {
      fail(plugin ? pos(*plugin) : pos(t), fmt::format("[{}] needs plugin = \"NAME\" (available: {})", section,
                                                       fmt::join(registry_.names(kind), ", ")));
      return;
    }
    const std::string name = *plugin->value<std::string>();
    const PluginLibrary* lib = registry_.find(kind, name);
    if (lib == nullptr) {
      fail(pos(*plugin), unknown_plugin_message(registry_, kind, name));
      return;
    }
    out->section = section;
    out->library = lib;
    out->params = Params::defaults(lib->descriptor->params);
    fill_params(t, section, *lib, out->params, /*skip_plugin_key=*/true);
  }

  Params builtin(const toml::table* t, const std::string& section, const std::vector<ParamSpec>& schema) {
    Params params = Params::defaults(schema);
    if (t == nullptr) return params;
    for (auto&& [key, node] : *t) {
      const auto spec = std::find_if(schema.begin(), schema.end(), [&](const ParamSpec& s) { return s.name == key.str(); });
      if (spec == schema.end()) {
        std::vector<std::string> names;
        for (const auto& s : schema) names.push_back(s.name);
        std::string msg = fmt::format("[{}] has no key '{}' (accepts: {})", section, key.str(), fmt::join(names, ", "));
        const auto close = closest_names(key.str(), names);
        if (!close.empty()) msg += fmt::format("; did you mean '{}'?", close.front());
        fail(pos(key), msg);
        continue;
      }
      set_checked(*spec, node, fmt::format("{}.{}", section, key.str()), fmt::format("[{}]", section), params);
    }
    return params;
  }

  std::string file_;
  const Registry& registry_;
  std::vector<std::string> problems_;
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
  add_leaves(out, "train", trial.train);
  return out;
}

std::string trial_identity(const TrialConfig& trial) {
  Sha256 h;
  h.update("gantry-trial-v1\n");
  for (const auto& [k, v] : config_leaves(trial)) h.update(fmt::format("{}={}\n", k, to_string(v)));
  h.update(fmt::format("seed={}\n", trial.seed));
  return h.hex();
}

std::vector<TrialConfig> Experiment::trials() const {
  std::vector<TrialConfig> out;
  for (uint64_t seed : seeds) {
    TrialConfig t = base;
    t.seed = seed;
    out.push_back(std::move(t));
  }
  return out;
}

Experiment parse_experiment(std::string_view text, const std::string& file, const Registry& registry) {
  return Parser(file, registry).parse(text);
}

Experiment load_experiment(const fs::path& file, const Registry& registry) {
  std::ifstream in(file);
  if (!in) throw ConfigError(fmt::format("cannot open experiment file {}", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_experiment(ss.str(), file.string(), registry);
}

}  // namespace gantry
