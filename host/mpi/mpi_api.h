#pragma once
// The boundary between gantry and libgantry_mpi.so, the one file that links libmpi. gantry
// dlopens the module only when a launcher (mpirun, srun) started it, so a plain `gantry run`
// neither loads nor needs an MPI library. Plain C types: the module and gantry agree on nothing
// else. Messages are untyped bytes on one tag; host/mpi/messages.hpp gives them meaning.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GANTRY_MPI_API_VERSION 1u

struct GantryMpiApi {
  uint32_t version;  ///< GANTRY_MPI_API_VERSION, read before anything else is called
  /// MPI_Init; 0 on success, else writes the reason into `error`.
  int (*init)(int* rank, int* size, char* error, uint64_t error_size);
  /// Queues `size` bytes for `dest` (copied; sent without blocking). 0 on success.
  int (*send)(int dest, const void* data, uint64_t size);
  /// The size of the next message waiting (its sender in `source`), or -1 when none is.
  int64_t (*probe)(int* source);
  /// Receives the message `probe` announced from `source` into `buffer` (`size` bytes). 0 on success.
  int (*receive)(int source, void* buffer, uint64_t size);
  /// Waits until every queued send has left this process, then MPI_Finalize.
  void (*finalize)(void);
  /// MPI_Abort on the whole job.
  void (*abort_job)(int code);
};

/// The module's one exported symbol.
const struct GantryMpiApi* gantry_mpi_api(void);

#ifdef __cplusplus
}
#endif
