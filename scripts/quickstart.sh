#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what gantry needs, build it, and run the
# quickstart experiment into the default database, results/gantry.db.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DGANTRY_BUILD_TESTS=OFF
./build/bin/gantry run experiments/quickstart.toml "$@"
