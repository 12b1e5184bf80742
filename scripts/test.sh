#!/usr/bin/env bash
# Install what gantry needs, build it with its tests, and run the whole suite; then the unit and
# CLI tests again under AddressSanitizer and UndefinedBehaviorSanitizer (scripts/test-sanitizers.sh;
# --no-sanitizers skips that second build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh -DGANTRY_BUILD_TESTS=ON
(cd build && ctest -j"$(nproc)" --output-on-failure --timeout 600)
if [ "${1:-}" != "--no-sanitizers" ]; then
  scripts/test-sanitizers.sh
fi
