// gantry serve: the results browser, over the database opened read-only.
#include "cli/commands.hpp"
#include "serve/server.hpp"

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

void add_serve_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("serve", "a live results browser over the database (read-only), in a web browser");
  auto o = std::make_shared<serve::ServeOptions>();
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->add_option("--port", o->port, "TCP port (0: any free one, printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--host", o->host, "address to listen on; any but a loopback address needs a token")
      ->capture_default_str();
  cmd->add_option("--token", o->token,
                  "every request must carry it (?token=, or an X-Gantry-Token or Authorization: Bearer header); "
                  "generated and printed when --host is not a loopback address");
  cmd->callback([&global, &result, o] {
    o->db = global.db;
    const bool generated = o->token.empty() && !serve::is_loopback(o->host);
    if (generated) o->token = serve::generate_token();
    serve::Server server(*o);
    const int port = server.bind();
    const std::string host = o->host.find(':') != std::string::npos ? "[" + o->host + "]" : o->host;
    std::cout << fmt::format("serving {} (read-only) at http://{}:{}/{}\n", global.db, host, port,
                             o->token.empty() ? "" : "?token=" + o->token);
    if (generated) std::cout << fmt::format("token (generated; pass --token to choose one): {}\n", o->token);
    std::cout << "Ctrl-C stops it" << std::endl;
    server.run();
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
