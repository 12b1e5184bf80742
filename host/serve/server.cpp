#include "serve/server.hpp"

#include "serve/elastic_pool.hpp"

#include "serve/assets.hpp"
#include "serve/pages.hpp"
#include "store/store.hpp"

#include <gantry/error.hpp>

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <iostream>
#include <random>

namespace gantry::serve {

bool is_loopback(const std::string& host) { return host == "localhost" || host == "::1" || host.starts_with("127."); }

std::string generate_token() {
  std::random_device rd;
  std::string token;
  for (int i = 0; i < 4; ++i) token += fmt::format("{:08x}", rd());
  return token;
}

namespace {

// Equal strings take the same time to compare whatever their first differing byte.
bool same_token(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The token the request carries: ?token=, X-Gantry-Token, "Authorization: Bearer", or the cookie
// the server set when the token first came in the URL (so the pages' links need not carry it).
std::optional<std::string> presented_token(const httplib::Request& req) {
  if (req.has_param("token")) return req.get_param_value("token");
  if (req.has_header("X-Gantry-Token")) return req.get_header_value("X-Gantry-Token");
  if (const std::string auth = req.get_header_value("Authorization"); auth.starts_with("Bearer "))
    return auth.substr(7);
  const std::string cookies = req.get_header_value("Cookie");
  for (size_t at = 0; (at = cookies.find("gantry_token=", at)) != std::string::npos; at += 13)
    if (at == 0 || cookies[at - 1] == ' ' || cookies[at - 1] == ';') {
      const size_t end = cookies.find(';', at);
      return cookies.substr(at + 13, end == std::string::npos ? std::string::npos : end - at - 13);
    }
  return std::nullopt;
}

void plain(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text + "\n", "text/plain; charset=utf-8");
}

const std::string too_long = fmt::format("request too long (at most {} bytes and 64 parameters)", max_target_length);

// The token is sent back as ?token= and in a cookie, neither of which carries ';', '&', '+',
// spaces or bytes beyond ASCII unchanged; these characters survive both.
bool url_and_cookie_safe(const std::string& token) {
  return std::all_of(token.begin(), token.end(), [](const char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

// A NUL would end the value wherever it becomes a C string (SQLite's text, error messages).
bool holds_nul(const httplib::Params& params) {
  return std::any_of(params.begin(), params.end(), [](const auto& kv) {
    return kv.first.find('\0') != std::string::npos || kv.second.find('\0') != std::string::npos;
  });
}

}  // namespace

Server::Server(ServeOptions options) : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  if (!is_loopback(options_.host) && options_.token.empty())
    throw ConfigError(fmt::format("serving on {} (not a loopback address) needs --token", options_.host));
  if (!url_and_cookie_safe(options_.token))
    throw ConfigError("--token may hold only letters, digits, '-', '.', '_' and '~' (it goes into addresses and a cookie)");
  open_results(options_.db);  // refuses a missing or foreign file before anything listens
  // Every response: never cached, never sniffed into another type, and no script but our own.
  http_->set_default_headers({{"Cache-Control", "no-store"},
                              {"X-Content-Type-Options", "nosniff"},
                              {"Referrer-Policy", "no-referrer"},
                              {"Content-Security-Policy",
                               "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'"}});
  http_->set_payload_max_length(1024);
  http_->new_task_queue = [] {
    return new ElasticPool(kept_worker_threads, max_worker_threads, std::chrono::seconds(10));
  };
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.target.size() > max_target_length || req.params.size() > 64) {
      plain(res, 414, too_long);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (holds_nul(req.params)) {
      plain(res, 400, "request values may not hold NUL characters");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      plain(res, 405, "gantry serve only reads: GET and HEAD");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (options_.token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const auto token = presented_token(req);
    if (!token) {
      res.set_header("WWW-Authenticate", "Bearer");
      plain(res, 401, "this server needs its token: add ?token=... to the address");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!same_token(*token, options_.token)) {
      plain(res, 403, "wrong token");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_param("token"))
      res.set_header("Set-Cookie", fmt::format("gantry_token={}; Path=/; HttpOnly; SameSite=Strict", options_.token));
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const HttpError& e) {
      plain(res, e.status, e.what());
    } catch (const ConfigError& e) {  // an unknown metric or parameter, a bad --at: the request's mistake
      plain(res, 400, e.what());
    } catch (const std::exception& e) {
      std::cerr << "gantry serve: error: " << e.what() << "\n";
      plain(res, 500, "internal error (the server's output says more)");
    }
  });
  http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    // 414 here is cpp-httplib's own limit (8 KB), before the pre-routing handler sees the request.
    plain(res, res.status,
          res.status == 404   ? "not found"
          : res.status == 414 ? too_long
                              : fmt::format("error {}", res.status));
  });
  add_routes();
}

Server::~Server() = default;

int Server::bind() {
  if (options_.port == 0) {
    const int port = http_->bind_to_any_port(options_.host);
    if (port > 0) return port;
  } else if (http_->bind_to_port(options_.host, options_.port)) {
    return options_.port;
  }
  throw ConfigError(
      fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)", options_.host, options_.port));
}

void Server::run() { http_->listen_after_bind(); }
void Server::stop() { http_->stop(); }

}  // namespace gantry::serve
