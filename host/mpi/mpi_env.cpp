#include "mpi/mpi_env.hpp"

#include "mpi/mpi_api.h"
#include "registry/registry.hpp"

#include <gantry/error.hpp>

#include <charconv>
#include <cstdlib>
#include <dlfcn.h>
#include <fmt/format.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace gantry {

namespace {

std::optional<int> number(const std::map<std::string, std::string, std::less<>>& env, std::string_view key) {
  const auto it = env.find(key);
  if (it == env.end()) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  if (ec != std::errc() || end != it->second.data() + it->second.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<LaunchInfo> detect_launch(const std::map<std::string, std::string, std::less<>>& env) {
  // Open MPI's mpirun; PMIx (no size variable of its own: srun --mpi=pmix sets SLURM_NTASKS);
  // PMI (MPICH's hydra, srun --mpi=pmi2); srun's own variables, for srun without an MPI plugin.
  struct Scheme {
    const char* rank;
    const char* size;
    const char* launcher;
  };
  const Scheme schemes[] = {{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "mpirun (Open MPI)"},
                            {"PMIX_RANK", "SLURM_NTASKS", "srun (PMIx)"},
                            {"PMI_RANK", "PMI_SIZE", "PMI"},
                            {"SLURM_PROCID", "SLURM_NTASKS", "srun"}};
  for (const Scheme& s : schemes) {
    const auto rank = number(env, s.rank), size = number(env, s.size);
    if (rank && size && *size >= 2 && *rank >= 0 && *rank < *size) return LaunchInfo{*rank, *size, s.launcher};
  }
  return std::nullopt;
}

std::optional<LaunchInfo> detect_launch() {
  std::map<std::string, std::string, std::less<>> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string_view::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return detect_launch(env);
}

std::filesystem::path mpi_module_path() { return Registry::builtin_dir().parent_path() / "libgantry_mpi.so"; }

std::unique_ptr<MpiComm> MpiComm::open(const std::filesystem::path& module) {
  // Trial workers are fork()ed after MPI_Init and never call MPI; they leave with _exit and keep
  // none of the rank's descriptors. Open MPI warns at every such fork unless told not to, and
  // InfiniBand's pinned memory needs rdma-core's fork support (a no-op elsewhere).
  setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
  setenv("RDMAV_FORK_SAFE", "1", 0);
  // RTLD_GLOBAL: Open MPI dlopens its own components, which look for libmpi's symbols globally.
  void* handle = dlopen(module.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle)
    throw ConfigError(fmt::format("launched by an MPI launcher, but cannot load gantry's MPI module: {} (was gantry "
                                  "built with libopenmpi-dev installed?)",
                                  dlerror()));
  using Entry = const GantryMpiApi* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "gantry_mpi_api"));
  const GantryMpiApi* api = entry ? entry() : nullptr;
  if (!api || api->version != GANTRY_MPI_API_VERSION)
    throw ConfigError(fmt::format("{}: not gantry's MPI module of version {}", module.string(), GANTRY_MPI_API_VERSION));
  std::unique_ptr<MpiComm> comm(new MpiComm);
  comm->handle_ = handle;
  comm->api_ = api;
  char error[512] = {};
  if (api->init(&comm->rank_, &comm->size_, error, sizeof error) != 0)
    throw ConfigError(fmt::format("MPI_Init failed: {}", error));
  return comm;
}

MpiComm::~MpiComm() {
  if (api_) api_->finalize();
  // The module stays loaded: Open MPI keeps threads and handlers after MPI_Finalize.
}

void MpiComm::send(int dest, std::string_view bytes) {
  if (api_->send(dest, bytes.data(), bytes.size()) != 0)
    throw Error(fmt::format("cannot send {} bytes to rank {}", bytes.size(), dest));
}

std::optional<MpiComm::Message> MpiComm::try_receive() {
  int source = 0;
  const int64_t size = api_->probe(&source);
  if (size < 0) return std::nullopt;
  Message m{source, std::string(static_cast<size_t>(size), '\0')};
  if (api_->receive(source, m.bytes.data(), m.bytes.size()) != 0)
    throw Error(fmt::format("cannot receive a message from rank {}", source));
  return m;
}

MpiComm::Message MpiComm::receive() {
  for (;;) {
    if (auto m = try_receive()) return std::move(*m);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace gantry
