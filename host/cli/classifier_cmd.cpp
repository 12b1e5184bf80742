// gantry classifier train|info: the reference classifier behind the image metrics.
#include "cli/commands.hpp"

#include <gantry/classifier.hpp>
#include <gantry/engine.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

namespace {

struct ClassifierOptions {
  std::string data;
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

}  // namespace

void add_classifier_command(CLI::App& app, GlobalOptions& /*global*/, int& result) {
  auto* cmd = app.add_subcommand("classifier", "the reference classifier of the image metrics (train once per machine)");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<ClassifierOptions>();
  auto* train = cmd->add_subcommand("train", "train it on the Fashion-MNIST training split and cache it");
  train->add_option("--data", opts->data, "folder with the Fashion-MNIST *-ubyte.gz files (default: Debian's)");
  train->add_flag("--force", opts->force, "train again even when the cache has it");
  train->add_option("--threads", opts->threads, "oneDNN threads (default: all cores)");
  auto* info = cmd->add_subcommand("info", "where the cached classifier is, its hashes and its test accuracy");
  info->add_option("--data", opts->data, "folder with the Fashion-MNIST *-ubyte.gz files (default: Debian's)");

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
                               "train it with `gantry classifier train` (under a minute on 2 cores)\n",
                               file.string());
      result = ExitCode::run_failed;
      return;
    }
    auto c = ReferenceClassifier::load(file);
    print_info(*c, data);
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
