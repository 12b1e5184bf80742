#include "train/checkpointer.hpp"

#include <fmt/format.h>

namespace gantry {

std::string checkpoint_file_name(int64_t step) { return fmt::format("step-{:012}.ckpt", step); }

Checkpointer::Checkpointer(CheckpointPlan plan, EventSink& sink, int64_t every, int64_t steps)
    : plan_(std::move(plan)), sink_(sink), every_(every), steps_(steps) {}

int64_t Checkpointer::resume(TrainingState& state) {
  if (plan_.resume_from.empty()) return 0;
  std::string why;  // the checkpoints passed over, each with its reason
  for (const CheckpointRef& c : plan_.resume_from) {
    try {
      std::error_code ec;
      if (!std::filesystem::exists(c.path, ec))
        throw CheckpointError(fmt::format("checkpoint {}: missing", c.path.string()));
      const auto counters = read_checkpoint(c.path, c.sha256, state);
      if (counters.at("step") != c.step)
        throw CheckpointError(fmt::format("checkpoint {}: holds step {}, recorded as step {}", c.path.string(),
                                          counters.at("step"), c.step));
      for (auto& [name, value] : state.counters) value = counters.at(name);
      last_saved_ = c.step;
      sink_.resumed(c.step, fmt::format("{}resumed from the checkpoint of step {}", why, c.step));
      return c.step;
    } catch (const CheckpointError& e) {
      why += fmt::format("{}; ", e.what());
    }
  }
  sink_.resumed(0, fmt::format("{}started again from step 0", why));
  return 0;
}

bool Checkpointer::due(int64_t step) const {
  return step == steps_ || (every_ > 0 && step % every_ == 0);
}

void Checkpointer::save(int64_t step, const TrainingState& state) {
  if (plan_.folder.empty() || step <= 0 || step == last_saved_) return;
  last_saved_ = step;
  // Everything measured up to this step reaches the store before the checkpoint is recorded, so a
  // run resumed from it finds its curves complete up to its step.
  sink_.flush();
  try {
    TrainingState at_step = state;
    at_step.counters["step"] = step;
    const WrittenCheckpoint w = write_checkpoint(plan_.folder / checkpoint_file_name(step), at_step);
    sink_.checkpoint(step, w.bytes, w.sha256);
  } catch (const CheckpointError& e) {
    sink_.note(fmt::format("checkpoint.error.{}", step), e.what());
  }
  sink_.flush();
}

}  // namespace gantry
