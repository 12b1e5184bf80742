#include "mpi/coordinator.hpp"

#include "config/experiment.hpp"
#include "mpi/worker.hpp"
#include "run/study_resources.hpp"
#include "util/process.hpp"

#include <gantry/error.hpp>
#include <gantry/plugin.hpp>

#include <algorithm>
#include <csignal>
#include <fmt/format.h>
#include <map>
#include <unistd.h>

namespace gantry {

namespace {

std::string label(const mpi::PluginFact& p) { return fmt::format("{} '{}'", p.kind, p.name); }

std::string build(const mpi::PluginFact& p) {
  return fmt::format("{} (version {}, sha256 {})", p.file, p.version, p.sha256.substr(0, 12));
}

void plugin_differences(const mpi::Hello& root, const mpi::Hello& other, const std::string& who,
                        std::vector<std::string>& out) {
  std::map<std::string, const mpi::PluginFact*> mine, theirs;
  for (const auto& p : root.plugins) mine[label(p)] = &p;
  for (const auto& p : other.plugins) theirs[label(p)] = &p;
  for (const auto& [name, p] : mine) {
    const auto it = theirs.find(name);
    if (it == theirs.end()) out.push_back(fmt::format("{}: has no {} (rank 0: {})", who, name, build(*p)));
    else if (!(*it->second == *p) && (it->second->sha256 != p->sha256 || it->second->version != p->version))
      out.push_back(fmt::format("{}: {} is {}; rank 0 has {}", who, name, build(*it->second), build(*p)));
  }
  for (const auto& [name, p] : theirs)
    if (!mine.count(name)) out.push_back(fmt::format("{}: uses {} that rank 0 does not ({})", who, name, build(*p)));
}

extern "C" void ignore_signal(int) {}

}  // namespace

mpi::Hello describe_rank(int rank, int jobs, const Experiment* exp, const std::string& error) {
  mpi::Hello h;
  h.rank = rank;
  h.host = host_name();
  h.fingerprint = build_fingerprint();
  h.abi = abi_version;
  h.slots = jobs;
  h.error = error;
  if (!exp) return h;
  for (const Trial& t : exp->trials) {
    h.identities.push_back(t.identity);
    for (const PluginChoice* c : t.config.plugins()) {
      const PluginLibrary& lib = *c->library;
      mpi::PluginFact fact{to_string(lib.kind()), lib.name(), lib.descriptor->version, lib.sha256, lib.file.string()};
      if (std::find(h.plugins.begin(), h.plugins.end(), fact) == h.plugins.end()) h.plugins.push_back(std::move(fact));
    }
  }
  std::sort(h.plugins.begin(), h.plugins.end(),
            [](const auto& a, const auto& b) { return std::tie(a.kind, a.name) < std::tie(b.kind, b.name); });
  return h;
}

std::vector<std::string> differences(const mpi::Hello& root, const mpi::Hello& other) {
  const std::string who = fmt::format("rank {} on {}", other.rank, other.host);
  if (!other.error.empty()) return {fmt::format("{}: cannot load the experiment: {}", who, other.error)};
  std::vector<std::string> out;
  if (other.fingerprint != root.fingerprint)
    out.push_back(fmt::format("{}: gantry build '{}'; rank 0 runs '{}'", who, other.fingerprint, root.fingerprint));
  if (other.abi != root.abi)
    out.push_back(fmt::format("{}: plugin ABI version {}; rank 0 supports {}", who, other.abi, root.abi));
  plugin_differences(root, other, who, out);
  if (out.empty() && other.identities != root.identities)
    out.push_back(fmt::format("{}: expands the experiment into {} trial(s) with other identities than rank 0's {}",
                              who, other.identities.size(), root.identities.size()));
  return out;
}

Coordinator::~Coordinator() {
  try {
    if (state_ == State::gathering) quit(2);
    else if (state_ == State::started) finish();
  } catch (...) {
    // Leaving on an error already: MPI_Finalize (or the launcher) ends the other ranks.
  }
}

Coordinator::Ranks Coordinator::check_ranks(const mpi::Hello& own, int own_slots) {
  Ranks ranks{std::vector<int>(static_cast<size_t>(comm_.size()), 0),
              std::vector<std::string>(static_cast<size_t>(comm_.size()), own.host)};
  ranks.slots[0] = own_slots;
  std::vector<std::string> problems;
  for (int heard = 1; heard < comm_.size(); ++heard) {
    const MpiComm::Message m = comm_.receive();
    const auto hello = mpi::decode_hello(m.bytes);
    if (!hello) {
      problems.push_back(fmt::format("rank {}: sent something else than its hello ({} bytes)", m.source, m.bytes.size()));
      continue;
    }
    ranks.slots[static_cast<size_t>(m.source)] = static_cast<int>(std::clamp<int64_t>(hello->slots, 1, 1024));
    ranks.hosts[static_cast<size_t>(m.source)] = hello->host;
    for (std::string& p : differences(own, *hello)) problems.push_back(std::move(p));
  }
  if (!problems.empty()) {
    std::sort(problems.begin(), problems.end());
    quit(2);
    throw ConfigError(fmt::format("the ranks differ, so nothing was run:\n  {}", fmt::join(problems, "\n  ")));
  }
  return ranks;
}

void Coordinator::quit(int code) {
  for (int r = 1; r < comm_.size(); ++r) comm_.send(r, mpi::encode_simple(mpi::Kind::quit, code));
  state_ = State::quit;
}

void Coordinator::start(const std::vector<FeatureNetwork>& networks) {
  const std::string message = mpi::encode(mpi::Start{networks});
  for (int r = 1; r < comm_.size(); ++r) comm_.send(r, message);
  state_ = State::started;
}

void Coordinator::finish() {
  state_ = State::finished;
  for (int r = 1; r < comm_.size(); ++r) comm_.send(r, mpi::encode_simple(mpi::Kind::done));
  // Reports still in flight (a trial's last lines after its exit was delivered cannot exist:
  // a rank reports a trial finished last) are dropped; only the byes are counted.
  for (int byes = 1; byes < comm_.size();)
    if (mpi::kind_of(comm_.receive().bytes) == mpi::Kind::bye) ++byes;
}

int worker_rank_main(MpiComm& comm, int jobs, const Experiment* exp, const std::string& error) {
  // mpirun and srun signal every rank at once (mpirun: SIGTERM, then SIGKILL a second later by
  // default). A worker rank that died of it would take its trials' events with it; it stays, and
  // rank 0, which got the same signal, stops every trial and records them interrupted.
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, ignore_signal);
  comm.send(0, mpi::encode(describe_rank(comm.rank(), jobs, exp, error)));
  for (;;) {
    const MpiComm::Message m = comm.receive();
    const auto kind = mpi::kind_of(m.bytes);
    // Rank 0 alone reports why and exits with the job's code. A worker rank that exited non-zero
    // first would make mpirun abort the job, killing rank 0 before it printed the reason.
    if (kind == mpi::Kind::quit) return 0;
    if (kind == mpi::Kind::start && exp) {
      const auto start = mpi::decode_start(m.bytes);
      if (!start) throw Error(fmt::format("rank {}: the start message from rank 0 is cut short", comm.rank()));
      use_study_networks(start->networks);  // the same weights as rank 0, whatever this machine has
      serve_trials(comm, *exp, jobs);
      return 0;
    }
    if (kind == mpi::Kind::start) return 2;  // rank 0 refuses a rank that could not load: cannot happen
  }
}

}  // namespace gantry
