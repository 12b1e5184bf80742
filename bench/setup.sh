#!/usr/bin/env bash
# Installs what the PyTorch side of the benchmark needs: Debian's python3-torch and OpenBLAS
# (without it torch's Linear layers fall back to the slow reference BLAS). Bench-only: gantry
# itself never needs either. Safe to run again.
set -euo pipefail
pkgs=(python3-torch python3-numpy libopenblas0-openmp)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
