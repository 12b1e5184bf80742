#pragma once
// Whether a launcher started this gantry as one rank of many, and the connection to the others.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct GantryMpiApi;

namespace gantry {

/// What the launcher's environment says: rank and size, and which launcher set them.
struct LaunchInfo {
  int rank = 0, size = 1;
  std::string launcher;  ///< "mpirun (Open MPI)", "srun", "PMI"
};

/// Reads the variables mpirun/srun set for their processes. nullopt unless there are 2 or more
/// processes: `gantry run` alone, or as the one task of an sbatch script, runs as it always did.
std::optional<LaunchInfo> detect_launch(const std::map<std::string, std::string, std::less<>>& env);
/// The same, from this process's environment.
std::optional<LaunchInfo> detect_launch();

/// The file that links libmpi: <dir of the gantry binary>/../lib/gantry/libgantry_mpi.so.
std::filesystem::path mpi_module_path();

/// One rank's connection to the others: the module loaded, MPI initialised. Messages are bytes.
class MpiComm {
 public:
  struct Message {
    int source = 0;
    std::string bytes;
  };
  /// Loads the module and calls MPI_Init. Throws ConfigError naming the file or MPI's reason.
  static std::unique_ptr<MpiComm> open(const std::filesystem::path& module = mpi_module_path());
  ~MpiComm();  ///< MPI_Finalize, after every queued send has left
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  void send(int dest, std::string_view bytes);
  std::optional<Message> try_receive();
  /// Waits (polling every millisecond: MPI_Recv would spin a core) for the next message.
  Message receive();

 private:
  MpiComm() = default;
  void* handle_ = nullptr;
  const GantryMpiApi* api_ = nullptr;
  int rank_ = 0, size_ = 1;
};

}  // namespace gantry
