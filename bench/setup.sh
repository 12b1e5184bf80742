#!/usr/bin/env bash
# Installs what the PyTorch side of the benchmark needs: Debian's python3-torch and OpenBLAS
# (without it torch's Linear layers fall back to the slow reference BLAS). Bench-only: gantry
# itself never needs either. Safe to run again.
set -euo pipefail
pkgs=(python3-torch python3-numpy libopenblas0-openmp)
bash "$(dirname "$0")/../scripts/apt-install.sh" "${pkgs[@]}"
