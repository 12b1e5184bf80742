// libgantry_mpi.so: gantry's only use of the MPI library, behind mpi_api.h.
#include "mpi/mpi_api.h"

#include <mpi.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

// Sends are non-blocking with their buffers kept until done: rank 0 and the workers both send
// while the other side may be sending too, and two blocking sends of large messages (past the
// eager limit) would wait for each other forever.
struct PendingSend {
  MPI_Request request = MPI_REQUEST_NULL;
  std::vector<char> bytes;
};
std::deque<PendingSend> pending;

void retire_completed() {
  while (!pending.empty()) {
    int done = 0;
    MPI_Test(&pending.front().request, &done, MPI_STATUS_IGNORE);
    if (!done) return;
    pending.pop_front();
  }
}

int init(int* rank, int* size, char* error, uint64_t error_size) {
  int provided = 0;
  // One thread calls MPI: the scheduler's loop (rank 0) or the worker loop (other ranks).
  const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SINGLE, &provided);
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    MPI_Error_string(rc, text, &length);
    std::strncpy(error, text, error_size > 0 ? error_size - 1 : 0);
    return 1;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return 0;
}

int send(int dest, const void* data, uint64_t size) {
  retire_completed();
  if (size > static_cast<uint64_t>(INT32_MAX)) return 1;
  PendingSend& s = pending.emplace_back();
  s.bytes.assign(static_cast<const char*>(data), static_cast<const char*>(data) + size);
  return MPI_Isend(s.bytes.data(), static_cast<int>(size), MPI_BYTE, dest, 0, MPI_COMM_WORLD, &s.request) ==
                 MPI_SUCCESS
             ? 0
             : 1;
}

int64_t probe(int* source) {
  retire_completed();
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(MPI_ANY_SOURCE, 0, MPI_COMM_WORLD, &flag, &status);
  if (!flag) return -1;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  *source = status.MPI_SOURCE;
  return count;
}

int receive(int source, void* buffer, uint64_t size) {
  return MPI_Recv(buffer, static_cast<int>(size), MPI_BYTE, source, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE) ==
                 MPI_SUCCESS
             ? 0
             : 1;
}

void finalize() {
  for (PendingSend& s : pending) MPI_Wait(&s.request, MPI_STATUS_IGNORE);
  pending.clear();
  MPI_Finalize();
}

void abort_job(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

const GantryMpiApi api{GANTRY_MPI_API_VERSION, init, send, probe, receive, finalize, abort_job};

}  // namespace

extern "C" __attribute__((visibility("default"))) const GantryMpiApi* gantry_mpi_api(void) { return &api; }
