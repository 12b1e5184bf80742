#pragma once
// Expands an experiment's [sweep] table into points: each a list of (dotted path, value) overrides.
#include "util/source_pos.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace gantry {

/// One swept setting of one point: `value` points into the TOML document, or into Sweep::owned
/// for values drawn by random search.
struct Override {
  std::string path;            ///< "optimizer.lr", "metrics.modes.threshold"
  const toml::node* value = nullptr;
  SourcePos pos;               ///< where the value (or, when drawn at random, its axis) is written
  SourcePos key_pos;           ///< where the path is written
};

struct SweepPoint {
  std::vector<Override> overrides;
};

struct Sweep {
  std::string mode = "grid";
  std::vector<std::string> columns;  ///< every path a point may set, in file order
  std::vector<SweepPoint> points;    ///< at least one (empty when there is no [sweep])
  std::vector<std::unique_ptr<toml::node>> owned;
};

/// How large a sweep may grow. Trials are points × seeds; they are counted from the axis lengths
/// (or `trials`), cases and seeds before anything is expanded, so a sweep of 10⁹ trials is a
/// message, not an allocation failure.
struct SweepLimit {
  uint64_t seeds = 1;                                       ///< trials per point
  uint64_t max_trials = std::numeric_limits<uint64_t>::max();
};

/// Expands `sweep` (nullptr: a single empty point). Problems are appended, formatted
/// "file:line:column: message"; the caller reports them all at once. Over the limit, a problem
/// and no points.
Sweep expand_sweep(const toml::table* sweep, const std::string& file, std::vector<std::string>& problems,
                   const SweepLimit& limit = {});

/// A TOML value as text for tables and logs: strings bare, numbers as written, arrays bracketed.
std::string node_text(const toml::node& node);

}  // namespace gantry
