#!/usr/bin/env bash
# The unit and CLI tests again, built with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ (scripts/test.sh runs this after the normal suite). Left out: the tests that train
# or measure for long (the reference classifier and the image metrics that need it, the ring-learning
# and benchmark checks, `classifier info` on the classifier they would train), which ASan slows
# several times over without reaching new code paths.
set -euo pipefail
cd "$(dirname "$0")/.."
# -Wno-maybe-uninitialized: GCC 12 warns falsely inside libstdc++ (std::regex) once ASan instruments it.
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wno-maybe-uninitialized"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DGANTRY_BUILD_TESTS=ON \
  -DCMAKE_CXX_FLAGS="$flags -O1" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-asan -j"$(nproc)"
# The reference classifier: the normal stage trained it (same recipe, so the same bits), and
# training it again under the sanitizers would take far longer; without it, the tests that need
# it are left out with the other classifier-bound ones.
needs_classifier='|StudyResources\.|cli\.classifier_exchange$'
if compgen -G "build/tests/cache/classifier-*.bin" >/dev/null; then
  mkdir -p build-asan/tests/cache
  cp build/tests/cache/classifier-*.bin build-asan/tests/cache/
  needs_classifier=''
fi
cd build-asan
# handle_segv=0: trials that crash on purpose must die of their own signal, as without ASan.
# detect_leaks=0: workers leave with _exit by design (the parent's state is not theirs to free).
export ASAN_OPTIONS="handle_segv=0:detect_leaks=0:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest -j"$(nproc)" --output-on-failure --timeout 900 \
  -E "^(classifier\\.|cli\\.classifier_info\$|ImageQuality\\.|ReferenceClassifier\\.|sdk\\.out_of_tree|cli\\.report_in_browser|cli\\.bench|cli\\.valid_experiment|Trainer\\.NonSaturatingGanLearnsTheRing|DcganTrainer\\.|Bench${needs_classifier})"
