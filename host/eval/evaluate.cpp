#include "eval/evaluate.hpp"

#include "check/check_settings.hpp"
#include "run/study_resources.hpp"
#include "store/checkpoints.hpp"
#include "store/stored_trial.hpp"
#include "train/evaluation.hpp"
#include "train/restore.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace gantry {

namespace {

// A run ready to be scored: its trial with the one metric, and the checkpoints to score.
struct Plan {
  StoredTrial stored;
  TrialConfig config;
  std::vector<CheckpointRow> checkpoints;  ///< oldest first; step 0 (as built) has no file
  std::vector<std::string> keys;           ///< every metric row it writes, per step
  std::string skipped;
};

// The metric's section: the run's own settings of it when its experiment measured it, so a
// recomputation scores what the trainer scored; else the plugin's defaults; then --set.
PluginChoice metric_choice(const TrialConfig& trial, const PluginLibrary& lib, const std::vector<std::string>& sets) {
  const auto own = std::find_if(trial.metrics.begin(), trial.metrics.end(),
                                [&](const PluginChoice& c) { return c.plugin() == lib.name(); });
  Params base = own != trial.metrics.end() ? own->params : Params::defaults(lib.descriptor->params);
  return {own != trial.metrics.end() ? own->section : "metrics." + lib.name(), &lib,
          apply_sets(*lib.descriptor, std::move(base), sets)};
}

Plan plan_run(ResultStore& store, const Registry& registry, const PluginLibrary& lib, int64_t run_id,
              const EvaluateOptions& o) {
  Plan p{load_stored_trial(store.db(), registry, run_id, store.path()), {}, {}, {}, {}};
  p.config = p.stored.config();
  p.config.metrics = {metric_choice(p.config, lib, o.sets)};
  const int64_t steps = p.config.train.integer("steps"), every = p.config.train.integer("eval_every");
  auto rows = store.db().table_exists("checkpoints") ? run_checkpoints(store.db(), run_id) : std::vector<CheckpointRow>{};
  std::reverse(rows.begin(), rows.end());
  for (const CheckpointRow& r : rows)
    if (r.step % every == 0 || r.step == steps) p.checkpoints.push_back(r);
  // Step 0 needs no file: its networks are the ones build_trial_models makes from the seed. (A run
  // without checkpoints is left alone: it predates them, and step 0 alone would say little.)
  if (p.stored.status == "running" || p.stored.status == "queued")
    p.skipped = fmt::format("it is {}: its checkpoints may still be pruned", p.stored.status);
  else if (rows.empty()) p.skipped = "no checkpoints";
  else if (p.checkpoints.empty() || p.checkpoints.front().step != 0)
    p.checkpoints.insert(p.checkpoints.begin(), CheckpointRow{});
  const bool conditional = p.config.train.boolean("conditional"), ema = p.config.train.real("g_ema") > 0;
  for (const MetricKey& k : lib.descriptor->metric_keys) {
    if (k.conditional_only && !conditional) continue;
    p.keys.push_back(fmt::format("{}.{}", lib.name(), k.name));
    if (ema) p.keys.push_back(fmt::format("raw.{}.{}", lib.name(), k.name));
  }
  return p;
}

// "run 3 at steps 20, 40" for each planned step that already has one of the metric's rows.
std::vector<std::string> already_recorded(Database& db, const std::vector<Plan>& plans) {
  std::vector<std::string> found;
  for (const Plan& p : plans) {
    if (!p.skipped.empty()) continue;
    std::vector<int64_t> steps;
    for (const CheckpointRow& c : p.checkpoints)
      for (const std::string& key : p.keys) {
        auto st = db.prepare("SELECT 1 FROM metrics WHERE run_id = ?1 AND key = ?2 AND step = ?3");
        st.bind(1, p.stored.run_id).bind(2, key).bind(3, c.step);
        if (st.step()) {
          steps.push_back(c.step);
          break;
        }
      }
    if (!steps.empty())
      found.push_back(fmt::format("run {} at step{} {}", p.stored.run_id, steps.size() == 1 ? "" : "s", fmt::join(steps, ", ")));
  }
  return found;
}

// "samples=500, threshold=3": the settings the values were computed with, for the note.
std::string params_text(const Params& params) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : params.all()) parts.push_back(fmt::format("{}={}", key, to_string(value)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Scores every planned checkpoint of one run, its networks loaded from each in turn.
std::vector<int64_t> score_run(ResultStore& store, const PluginLibrary& lib, Plan& p) {
  TrialModels models = build_trial_models(p.config);
  RunWriter writer(store, p.stored.run_id);
  Evaluator evaluator(p.config, models, writer, /*pictures=*/false);
  std::unique_ptr<GeneratorEma> ema;
  if (const double decay = p.config.train.real("g_ema"); decay > 0)
    ema = std::make_unique<GeneratorEma>(models.generator->layer(), decay, p.config.train.integer("g_ema_start"));
  std::vector<int64_t> steps;
  for (const CheckpointRow& c : p.checkpoints) {
    if (!c.file.empty()) {  // else step 0: the networks as built, first of the steps
      const auto file = checkpoint_root(store.path()) / c.file;
      const CheckpointTensors ckpt = read_checkpoint_tensors(file, c.sha256);
      restore_networks(ckpt, file, p.config, models, GeneratorCopy::raw, true);
      if (ema) restore_ema(ckpt, file, *ema);
    }
    evaluator.evaluate(c.step, ema.get(), {});
    steps.push_back(c.step);
  }
  for (const auto& [key, value] : models.metrics[0]->notes()) writer.note(fmt::format("{}.{}", lib.name(), key), value);
  const Params& params = p.config.metrics[0].params;
  writer.note(fmt::format("evaluate.{}.computed", lib.name()),
              fmt::format("later, by gantry evaluate, at steps {}: plugin {} {} ({}, sha256 {}){}", fmt::join(steps, ", "),
                          lib.name(), lib.descriptor->version, lib.file.string(), lib.sha256,
                          params.all().empty() ? "" : ", with " + params_text(params)));
  writer.flush();
  return steps;
}

}  // namespace

std::vector<EvaluatedRun> evaluate_stored(ResultStore& store, const Registry& registry, const EvaluateOptions& o,
                                          std::ostream& log) {
  const PluginLibrary& lib = registry.get(PluginKind::metric, o.metric);
  std::vector<Plan> plans;
  for (int64_t run : runs_named(store.db(), o.target, store.path())) plans.push_back(plan_run(store, registry, lib, run, o));
  if (const auto found = already_recorded(store.db(), plans); !found.empty() && !o.force)
    throw ConfigError(fmt::format("metric '{}' is already recorded for {} (add --force to compute it again and replace "
                                  "those values)",
                                  lib.name(), fmt::join(found, "; ")));
  store.record_metric_keys(lib.name(), lib.descriptor->metric_keys, lib.descriptor->primary_key);
  std::vector<EvaluatedRun> out;
  for (Plan& p : plans) {
    EvaluatedRun done{p.stored.run_id, {}, p.skipped};
    if (p.skipped.empty()) {
      Experiment one = p.stored.parsed;  // the study's feature networks, when the metric needs them
      one.trials = {one.trials[p.stored.trial]};
      one.trials[0].config = p.config;
      prepare_study_resources(one, store, log);
      if (p.config.train.real("g_ema") > 0) store.record_metric_keys("raw." + lib.name(), lib.descriptor->metric_keys, "");
      done.steps = score_run(store, lib, p);
      log << fmt::format("run {}: {} at step{} {}\n", done.run_id, lib.name(), done.steps.size() == 1 ? "" : "s",
                         fmt::join(done.steps, ", "));
    } else {
      log << fmt::format("run {}: skipped, {}\n", done.run_id, done.skipped);
    }
    out.push_back(std::move(done));
  }
  return out;
}

}  // namespace gantry
