// gantry serve over HTTP: a server on an ephemeral port in this process, asked with
// cpp-httplib's client. Status codes, content types, the token rules, and a page's JSON changing
// while the database is written.
#include "serve/server.hpp"

#include "support/experiments.hpp"
#include "support/results_db.hpp"

#include <gantry/error.hpp>

#include <httplib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace gantry {
namespace {

class Serving {
 public:
  explicit Serving(serve::ServeOptions o) : server_(std::move(o)), port_(server_.bind()) {
    thread_ = std::thread([this] { server_.run(); });
  }
  ~Serving() {
    server_.stop();
    thread_.join();
  }
  httplib::Client client() const { return httplib::Client("127.0.0.1", port_); }
  int port() const { return port_; }

 private:
  serve::Server server_;
  int port_;
  std::thread thread_;
};

class Server : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path path = dir.path / "r.db";
  std::unique_ptr<test::ResultsDb> writer;
  void SetUp() override {
    writer = std::make_unique<test::ResultsDb>(path);
    writer->experiment(1, "ring", R"('["loss.plugin"]')", R"('["q"]')");
    writer->metric_key("q.score", "higher", true);
    writer->run(1, 0, "completed", {{"loss.plugin", "'hinge'"}}, {{"q.score", 3}});
    writer->db().exec("INSERT INTO artifacts VALUES (1, 'samples', 10, 'image/png', x'89504E47')");
  }
  serve::ServeOptions options(const std::string& token = "") { return {path, "127.0.0.1", 0, token}; }
};

void expect_response(httplib::Client& c, const std::string& target, int status, const std::string& type,
                     const std::string& body_start = "") {
  const auto res = c.Get(target.c_str());
  ASSERT_TRUE(res) << target;
  EXPECT_EQ(res->status, status) << target;
  EXPECT_EQ(res->get_header_value("Content-Type"), type) << target;
  EXPECT_EQ(res->body.substr(0, body_start.size()), body_start) << target;
}

TEST_F(Server, RoutesAnswerWithTheirTypesAndBadRequestsWith4xx) {
  Serving s(options());
  auto c = s.client();
  const std::string html = "text/html; charset=utf-8", text = "text/plain; charset=utf-8";
  expect_response(c, "/", 200, html, "<!DOCTYPE html>");
  expect_response(c, "/experiment/1", 200, html, "<!DOCTYPE html>");
  expect_response(c, "/experiment/1/compare?metric=q.score&by=loss.plugin", 200, html, "<!DOCTYPE html>");
  expect_response(c, "/experiment/1/curves.svg", 200, "image/svg+xml", "<svg ");
  expect_response(c, "/experiment/1/runs.csv", 200, "text/csv; charset=utf-8",
                  "run,seed,status,step,steps,loss.plugin,q.score final,q.score best\n1,0,completed,0,10,hinge,3,3\n");
  expect_response(c, "/experiment/1/compare.json", 200, "application/json", "[");
  expect_response(c, "/experiment/1/metrics.csv", 200, "text/csv; charset=utf-8", "run_id,seed,status,loss.plugin");
  expect_response(c, "/run/1", 200, html, "<!DOCTYPE html>");
  expect_response(c, "/artifact/1/10", 200, "image/png", std::string("\x89PNG", 4));
  expect_response(c, "/assets/live.js", 200, "text/javascript; charset=utf-8", "\"use strict\";");
  expect_response(c, "/assets/style.css", 200, "text/css; charset=utf-8", "body {");
  expect_response(c, "/nope", 404, text, "not found\n");
  expect_response(c, "/experiment/abc", 404, text, "not found\n");
  expect_response(c, "/experiment/-1", 404, text, "not found\n");
  expect_response(c, "/experiment/1234567890123456789012", 404, text, "not found\n");
  expect_response(c, "/experiment/42", 404, text, "no experiment with id 42\n");
  expect_response(c, "/run/42", 404, text, "no run with id 42\n");
  expect_response(c, "/artifact/1/11", 404, text, "run 1 has no samples at step 11\n");
  expect_response(c, "/assets/../../etc/passwd", 404, text, "not found\n");
  expect_response(c, "/experiment/1/compare?metric=q.nope", 400, text, "unknown metric 'q.nope' (available: q.score");
  expect_response(c, "/experiment/1/compare?at=soon", 400, text,
                  "--at takes final, best or a step number, not 'soon'\n");
  expect_response(c, "/experiment/1?param=oops", 400, text, "param= takes KEY=VALUE, not 'oops'\n");
  expect_response(c, "/?q=" + std::string(5000, 'a'), 414, text, "request too long");
  const auto post = c.Post("/", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  const auto page = c.Get("/");
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_TRUE(page->get_header_value("Content-Security-Policy").starts_with("default-src 'none'; script-src 'self';"));
}

// A connection to the server that has sent `text` and then waits, holding whatever worker took it.
class RawConnection {
 public:
  RawConnection(int port, const std::string& text) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(send(fd_, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  }
  ~RawConnection() { close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

 private:
  int fd_;
};

// A browser keeps its connections open between requests (two tabs: a dozen), and a slow or
// hostile client can send half a request and wait; neither may hold up anyone else's page.
TEST_F(Server, IdleAndHalfSentConnectionsDoNotHoldUpOthers) {
  Serving s(options());
  std::vector<std::unique_ptr<httplib::Client>> idle;
  for (int i = 0; i < 12; ++i) {
    idle.push_back(std::make_unique<httplib::Client>("127.0.0.1", s.port()));
    idle.back()->set_keep_alive(true);
    ASSERT_EQ(idle.back()->Get("/api/run/1")->status, 200);
  }
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 12; ++i)
    slow.push_back(std::make_unique<RawConnection>(s.port(), "GET / HTTP/1.1\r\nHost: x\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto c = s.client();
  const auto start = std::chrono::steady_clock::now();
  const auto res = c.Get("/run/1");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_LT(took, std::chrono::seconds(3));  // 5 s (the idle timeout) when the workers run out
}

// More connections held open at once than any fixed pool we would size: a client opening them on
// purpose (or a hundred tabs) still leaves a worker for the next page.
TEST_F(Server, TwoHundredHeldConnectionsDoNotHoldUpOthers) {
  Serving s(options());
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 200; ++i)
    held.push_back(std::make_unique<RawConnection>(s.port(), i % 2 ? "GET / HTTP/1.1\r\n" : ""));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto c = s.client();
  const auto start = std::chrono::steady_clock::now();
  const auto res = c.Get("/");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_LT(took, std::chrono::seconds(2));  // 5 s, the read timeout, when every worker is held
}

// NUL ends a C string: a request value holding one would reach SQLite and the error messages cut.
TEST_F(Server, ARequestValueWithANulIsRefused) {
  Serving s(options());
  auto c = s.client();
  expect_response(c, "/experiment/1/compare?metric=q.score%00x", 400, "text/plain; charset=utf-8",
                  "request values may not hold NUL characters\n");
  expect_response(c, "/experiment/1?sort=run%00", 400, "text/plain; charset=utf-8",
                  "request values may not hold NUL characters\n");
}

// cpp-httplib refuses targets over 8 KB itself; its answer says the same as ours.
TEST_F(Server, AnOversizeTargetIsExplained) {
  Serving s(options());
  auto c = s.client();
  expect_response(c, "/?q=" + std::string(9000, 'a'), 414, "text/plain; charset=utf-8",
                  "request too long (at most 4096 bytes and 64 parameters)\n");
}

// The token goes into addresses (?token=) and a cookie: a character either would split or
// change makes a server nobody can use, so it is refused before anything listens.
TEST_F(Server, ATokenThatAnAddressOrCookieWouldChangeIsRefused) {
  for (const std::string token : {"a;b", "p&ss", "a b", "s\xC3\xA9" "cret", "a+b", "a\r\nX: y"}) {
    try {
      serve::Server server(options(token));
      ADD_FAILURE() << token;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()),
                "--token may hold only letters, digits, '-', '.', '_' and '~' (it goes into addresses and a cookie)");
    }
  }
  Serving s(options("A-z0.9_~"));
  auto c = s.client();
  EXPECT_EQ(c.Get("/run/1?token=A-z0.9_~")->status, 200);
}

// The file moved away while serving is a clear 503, not an internal error; back, it is served again.
TEST_F(Server, ADatabaseMovedAwayIsUnavailableUntilItIsBack) {
  Serving s(options());
  auto c = s.client();
  writer.reset();  // closed: its WAL is folded into the file, which then holds everything
  std::filesystem::rename(path, dir.path / "moved.db");
  expect_response(c, "/run/1", 503, "text/plain; charset=utf-8",
                  "the results database cannot be opened now (moved or deleted?)\n");
  expect_response(c, "/assets/style.css", 200, "text/css; charset=utf-8", "body {");
  std::filesystem::rename(dir.path / "moved.db", path);
  expect_response(c, "/run/1", 200, "text/html; charset=utf-8", "<!DOCTYPE html>");
}

TEST_F(Server, ATokenIsNeededOnEveryRequestWhenSet) {
  Serving s(options("s3cret"));
  auto c = s.client();
  const std::string text = "text/plain; charset=utf-8";
  expect_response(c, "/", 401, text, "this server needs its token: add ?token=... to the address\n");
  expect_response(c, "/assets/live.js", 401, text, "this server needs its token");
  expect_response(c, "/?token=wrong", 403, text, "wrong token\n");
  const auto first = c.Get("/?token=s3cret");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->get_header_value("Set-Cookie"), "gantry_token=s3cret; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(c.Get("/api/run/1", {{"X-Gantry-Token", "s3cret"}})->status, 200);
  EXPECT_EQ(c.Get("/api/run/1", {{"Authorization", "Bearer s3cret"}})->status, 200);
  EXPECT_EQ(c.Get("/api/run/1", {{"Cookie", "a=b; gantry_token=s3cret"}})->status, 200);
  EXPECT_EQ(c.Get("/api/run/1", {{"Cookie", "gantry_token=s3cre"}})->status, 403);
  EXPECT_EQ(c.Get("/api/run/1", {{"Authorization", "Bearer s3cret2"}})->status, 403);
}

TEST_F(Server, AnyOtherThanALoopbackAddressNeedsAToken) {
  try {
    serve::Server server({path, "0.0.0.0", 0, ""});
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "serving on 0.0.0.0 (not a loopback address) needs --token");
  }
  EXPECT_TRUE(serve::is_loopback("127.0.0.1"));
  EXPECT_TRUE(serve::is_loopback("::1"));
  EXPECT_FALSE(serve::is_loopback("10.0.0.1"));
  EXPECT_EQ(serve::generate_token().size(), 32u);
  EXPECT_NE(serve::generate_token(), serve::generate_token());
  EXPECT_THROW(serve::Server({dir.path / "absent.db", "127.0.0.1", 0, ""}), ConfigError);
}

// The sweep writes (its own connection, as gantry run's parent does) while the server serves:
// the live JSON shows the new run, then its progress, then its end, with no reload of anything.
TEST_F(Server, TheLiveJsonFollowsTheWriter) {
  Serving s(options());
  auto c = s.client();
  auto live = [&] {
    const auto res = c.Get("/api/experiment/1/live");
    EXPECT_EQ(res->status, 200);
    return res->body;
  };
  EXPECT_EQ(live(), "{\"experiment\": 1, \"counts\": {\"completed\": 1}, \"active\": []}\n");
  writer->db().exec(
      "INSERT INTO runs(id, experiment_id, identity, seed, status, step, steps, created_at) "
      "VALUES (2, 1, 'id2', 1, 'running', 0, 10, 'now')");
  EXPECT_EQ(live(),
            "{\"experiment\": 1, \"counts\": {\"completed\": 1, \"running\": 1}, \"active\": [{\"id\": 2, "
            "\"status\": \"running\", \"step\": 0, \"steps\": 10}]}\n");
  // A running run's points are on the curves already: hinge's line gains the point at step 5.
  auto points = [&] {
    const std::string svg = c.Get("/experiment/1/curves.svg")->body;
    const size_t at = svg.find("<polyline points=\"") + 18;
    const std::string line = svg.substr(at, svg.find('"', at) - at);
    return std::count(line.begin(), line.end(), ',');
  };
  EXPECT_EQ(points(), 2);
  writer->db().exec("INSERT INTO params VALUES (2, 'loss.plugin', 'hinge')");
  writer->db().exec("INSERT INTO metrics VALUES (2, 'q.score', 5, 7.5)");
  writer->db().exec("UPDATE runs SET step = 5 WHERE id = 2");
  EXPECT_NE(live().find("\"step\": 5"), std::string::npos);
  EXPECT_EQ(points(), 3);
  writer->db().exec("UPDATE runs SET status = 'completed', step = 10 WHERE id = 2");
  EXPECT_EQ(live(), "{\"experiment\": 1, \"counts\": {\"completed\": 2}, \"active\": []}\n");
  EXPECT_EQ(c.Get("/api/run/2")->body, "{\"id\": 2, \"status\": \"completed\", \"step\": 10, \"steps\": 10}\n");
}

}  // namespace
}  // namespace gantry
