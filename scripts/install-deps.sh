#!/usr/bin/env bash
# Installs the Debian 12 packages gantry needs to build and run; with --test, also what its tests
# need (Chromium, to render a report headless). dataset-fashion-mnist is the image data.
# libcpp-httplib-dev: the HTTP server of gantry serve.
# Safe to run again: apt-get skips what is already installed.
# ocl-icd-opencl-dev: Debian builds oneDNN with an OpenCL GPU runtime, so its CMake package
# asks for OpenCL even though gantry uses only the CPU engine.
# openmpi-bin libopenmpi-dev: `mpirun gantry run` (host/mpi/, loaded only under a launcher) and its tests.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers libboost-dev libsqlite3-dev sqlite3 libfmt-dev
  libtomlplusplus-dev libgtest-dev libcli11-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev libcairo2-dev
  libcpp-httplib-dev
  dataset-fashion-mnist
  openmpi-bin libopenmpi-dev
)
# The test suite also renders the HTML report in a real browser, and reads gantry generate's
# .npy files with numpy (gantry itself never needs Python), and runs `gantry slurm --submit` on
# a single-node SLURM cluster it starts on localhost (slurm-wlm, munge: tests/cli/slurm_cluster.sh).
if [ "${1:-}" = "--test" ]; then
  pkgs+=(chromium python3-numpy slurm-wlm munge)
fi
bash "$(dirname "$0")/apt-install.sh" "${pkgs[@]}"
