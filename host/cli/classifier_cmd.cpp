// gantry classifier train|info|export|import: the reference classifier behind the image metrics.
#include "cli/commands.hpp"
#include "store/feature_networks.hpp"

#include <gantry/classifier.hpp>
#include <gantry/engine.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

namespace {

struct ClassifierOptions {
  std::string data, file, db;
  bool force = false;
  int threads = 0;
};

std::filesystem::path data_dir(const ClassifierOptions& o) {
  return o.data.empty() ? default_fashion_mnist_dir() : std::filesystem::path(o.data);
}

void print_info(ReferenceClassifier& c, const std::filesystem::path& data) {
  const LabelledImages& test = load_fashion_mnist(data, "test");
  std::cout << fmt::format("file:           {}\n", c.file().string())
            << fmt::format("recipe:         {}\n", c.recipe())
            << fmt::format("weights sha256: {}\n", c.weights_sha256())
            << fmt::format("test accuracy:  {:.2f} % (Fashion-MNIST test split, {} images)\n",
                           100 * c.accuracy(test.images, test.labels), test.images.dim(0))
            << fmt::format("trained in:     {:.1f} s\n", c.train_seconds());
}

// The network `gantry run` would measure with: the study's, when --db names one that has it, else
// this machine's cached one.
FeatureNetwork network_to_export(const ClassifierOptions& o) {
  const auto data = data_dir(o);
  const std::string recipe = ReferenceClassifier::recipe_hash(data);
  if (!o.db.empty()) {
    Database db = open_results(o.db);
    if (auto n = find_feature_network(db, recipe)) return *n;
    throw ConfigError(fmt::format("{} holds no feature network for recipe {} (its studies have not measured images "
                                  "from {} yet)", o.db, recipe.substr(0, 16), data.string()));
  }
  const auto file = ReferenceClassifier::cache_file(data);
  if (!std::filesystem::exists(file))
    throw ConfigError(fmt::format("no reference classifier cached yet (it would be {}); train it with `gantry "
                                  "classifier train`", file.string()));
  return read_feature_network(file);
}

void export_network(const ClassifierOptions& o) {
  const FeatureNetwork n = network_to_export(o);
  const auto target = std::filesystem::absolute(o.file);
  materialize(n, target.parent_path());
  const auto written = target.parent_path() / ReferenceClassifier::file_name(n.recipe);
  if (written != target) std::filesystem::rename(written, target);
  std::cout << fmt::format("exported feature network {} (recipe {}) to {}\n", n.sha256.substr(0, 16),
                           n.recipe.substr(0, 16), o.file);
}

// Into this machine's cache, and into a study's database when --db is given. A study that has a
// network already keeps it: two networks in one study would make its runs incomparable.
int import_network(const ClassifierOptions& o) {
  std::unique_ptr<ReferenceClassifier> c;
  try {
    c = ReferenceClassifier::import_file(o.file);
  } catch (const Error& e) {  // a file the user named: bad input (exit 2), not a damaged cache
    throw ConfigError(e.what());
  }
  std::cout << fmt::format("imported feature network {} into {}\n", c->weights_sha256().substr(0, 16), c->file().string());
  if (c->recipe() != ReferenceClassifier::recipe_hash(data_dir(o)))
    std::cerr << fmt::format("gantry: warning: its recipe {} is not this machine's ({}): the Fashion-MNIST files or "
                             "gantry's version differ, so the image metrics here will not use it\n",
                             c->recipe().substr(0, 16), ReferenceClassifier::recipe_hash(data_dir(o)).substr(0, 16));
  if (o.db.empty()) return ExitCode::ok;
  ResultStore store(o.db);
  const FeatureNetwork kept = keep_feature_network(store, read_feature_network(c->file()));
  if (kept.sha256 != c->weights_sha256()) {
    std::cerr << fmt::format("gantry: {} already measures with feature network {}; a second one would make its runs "
                             "incomparable, so it keeps that one\n", o.db, kept.sha256.substr(0, 16));
    return ExitCode::run_failed;
  }
  std::cout << fmt::format("{}: its studies measure with {}\n", o.db, kept.sha256.substr(0, 16));
  return ExitCode::ok;
}

}  // namespace

void add_classifier_command(CLI::App& app, GlobalOptions& /*global*/, int& result) {
  auto* cmd = app.add_subcommand("classifier", "the reference classifier of the image metrics (the feature network)");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<ClassifierOptions>();
  auto* train = cmd->add_subcommand("train", "train it on the Fashion-MNIST training split and cache it");
  train->add_option("--data", opts->data, "folder with the Fashion-MNIST *-ubyte.gz files (default: Debian's)");
  train->add_flag("--force", opts->force, "train again even when the cache has it");
  train->add_option("--threads", opts->threads, "oneDNN threads (default: all cores)");
  auto* info = cmd->add_subcommand("info", "where the cached classifier is, its hashes and its test accuracy");
  info->add_option("--data", opts->data, "folder with the Fashion-MNIST *-ubyte.gz files (default: Debian's)");

  auto* exp = cmd->add_subcommand("export", "write the feature network to a file, for another machine or lab");
  exp->add_option("file", opts->file, "the file to write")->required();
  exp->add_option("--db", opts->db, "export the study's network from this results database (default: this machine's)");
  exp->add_option("--data", opts->data, "folder with the Fashion-MNIST *-ubyte.gz files (default: Debian's)");
  auto* imp = cmd->add_subcommand("import", "use a feature network exported elsewhere (into the cache, and a study)");
  imp->add_option("file", opts->file, "a file written by `gantry classifier export`")->required()->check(CLI::ExistingFile);
  imp->add_option("--db", opts->db, "also make it the network of this results database's studies");
  imp->add_option("--data", opts->data, "folder with the Fashion-MNIST *-ubyte.gz files (default: Debian's)");
  exp->callback([opts, &result] {
    export_network(*opts);
    result = ExitCode::ok;
  });
  imp->callback([opts, &result] { result = import_network(*opts); });

  train->callback([opts, &result] {
    if (opts->threads > 0) set_num_threads(opts->threads);
    auto log = [](std::string_view line) { std::cout << line << std::endl; };
    const auto data = data_dir(*opts);
    auto c = opts->force ? ReferenceClassifier::train(data, log) : ReferenceClassifier::load_or_train(data, log);
    print_info(*c, data);
    result = ExitCode::ok;
  });
  info->callback([opts, &result] {
    const auto data = data_dir(*opts);
    const auto file = ReferenceClassifier::cache_file(data);
    if (!std::filesystem::exists(file)) {
      std::cout << fmt::format("no reference classifier cached yet (it would be {});\n"
                               "train it with `gantry classifier train` (a few minutes, once per machine)\n",
                               file.string());
      result = ExitCode::run_failed;
      return;
    }
    auto c = ReferenceClassifier::load_cached(file);
    print_info(*c, data);
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
