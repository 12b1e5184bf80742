#pragma once
// gantry serve's HTTP layer (cpp-httplib): routes, the token, request limits, and errors turned
// into status codes. Each request opens its own read-only connection (the read-only authorizer
// of gantry query), so nothing a request sends can write, and no request path reaches a file.
#include <filesystem>
#include <memory>
#include <string>

namespace httplib {
class Server;
}

namespace gantry::serve {

struct ServeOptions {
  std::filesystem::path db;
  std::string host = "127.0.0.1";
  int port = 8642;    ///< 0: any free port (tests)
  std::string token;  ///< required on every request when set; must be set for a non-loopback host
};

/// The longest request target (path and query) accepted; longer ones get 414.
inline constexpr size_t max_target_length = 4096;

/// Connections served at once (serve/elastic_pool.hpp): a worker stays with its connection while
/// the client is idle (browsers keep theirs open between requests) or slow to send, so a thread is
/// started for each connection open at once, up to this many; 8 stay when the burst is over.
inline constexpr size_t max_worker_threads = 1024;
inline constexpr size_t kept_worker_threads = 8;

/// 127.0.0.1, ::1, localhost and the rest of 127.0.0.0/8.
bool is_loopback(const std::string& host);
/// 32 hex digits from the system's random source.
std::string generate_token();

class Server {
 public:
  /// ConfigError for a non-loopback host without a token, a token with characters an address or a
  /// cookie would change, and a database gantry cannot read (open_results' messages).
  explicit Server(ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the address; returns the port (the chosen one for port 0). ConfigError when it cannot.
  int bind();
  /// Serves until stop(); call after bind().
  void run();
  void stop();

 private:
  void add_routes();
  ServeOptions options_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace gantry::serve
