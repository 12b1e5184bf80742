#include "mpi/messages.hpp"
#include "run/protocol.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace gantry::mpi {
namespace {

Hello sample_hello() {
  Hello h;
  h.rank = 2;
  h.host = "node7";
  h.fingerprint = "gantry 0.1.0; GCC 12; libstdc++ cxx11 ABI 1";
  h.abi = 9;
  h.slots = 4;
  h.error = "";
  h.plugins = {{"loss", "hinge", "1.0.0", std::string(64, 'a'), "/opt/x/libloss_hinge.so"},
               {"data", "ring8", "1.0.0", std::string(64, 'b'), "/opt/x/libdata_ring8.so"}};
  h.identities = {std::string(64, 'c'), std::string(64, 'd')};
  return h;
}

TEST(MpiMessages, HelloRoundTrips) {
  const Hello h = sample_hello();
  const auto back = decode_hello(encode(h));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->rank, 2);
  EXPECT_EQ(back->host, "node7");
  EXPECT_EQ(back->fingerprint, h.fingerprint);
  EXPECT_EQ(back->abi, 9);
  EXPECT_EQ(back->slots, 4);
  EXPECT_EQ(back->plugins, h.plugins);
  EXPECT_EQ(back->identities, h.identities);
}

TEST(MpiMessages, LaunchRoundTripsWithItsCheckpoints) {
  Launch l;
  l.record = 41;
  l.trial = 7;
  l.run_id = 1234;
  l.threads = 2;
  l.memory_limit = 5ull << 30;
  l.identity = std::string(64, 'e');
  l.checkpoints.folder = "/db.checkpoints/run-1234";
  l.checkpoints.resume_from = {{200, "/db.checkpoints/run-1234/step-000000000200.ckpt", std::string(64, 'f')},
                               {100, "/db.checkpoints/run-1234/step-000000000100.ckpt", std::string(64, '0')}};
  const auto back = decode_launch(encode(l));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->record, 41);
  EXPECT_EQ(back->trial, 7);
  EXPECT_EQ(back->run_id, 1234);
  EXPECT_EQ(back->threads, 2);
  EXPECT_EQ(back->memory_limit, 5ull << 30);
  EXPECT_EQ(back->identity, l.identity);
  EXPECT_EQ(back->checkpoints.folder, l.checkpoints.folder);
  ASSERT_EQ(back->checkpoints.resume_from.size(), 2u);
  EXPECT_EQ(back->checkpoints.resume_from[1].step, 100);
  EXPECT_EQ(back->checkpoints.resume_from[1].path, l.checkpoints.resume_from[1].path);
  EXPECT_EQ(back->checkpoints.resume_from[0].sha256, std::string(64, 'f'));
}

TEST(MpiMessages, ReportKeepsItemsInOrder) {
  const std::vector<ReportItem> items{{ReportItem::Type::event, 3, "M\t10\tmodes.modes\t8", 0},
                                      {ReportItem::Type::malformed, 3, "garbage\twith\ttabs", 0},
                                      {ReportItem::Type::finished, 3, "stderr tail\n", 139}};
  const auto back = decode_report(encode(items));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*back)[i].type, items[i].type);
    EXPECT_EQ((*back)[i].record, 3);
    EXPECT_EQ((*back)[i].text, items[i].text);
    EXPECT_EQ((*back)[i].wait_status, items[i].wait_status);
  }
}

TEST(MpiMessages, SimpleMessagesCarryTheirValue) {
  EXPECT_EQ(kind_of(encode_simple(Kind::stop, 2)), Kind::stop);
  EXPECT_EQ(decode_simple(encode_simple(Kind::stop, 2)), 2);
  EXPECT_EQ(decode_simple(encode_simple(Kind::kill, 17)), 17);
  EXPECT_EQ(decode_simple(encode_simple(Kind::quit, 2)), 2);
}

// Rank 0's start carries the study's feature networks byte for byte (a classifier file holds any
// byte, NULs included).
TEST(MpiMessages, StartCarriesTheStudysFeatureNetworksExactly) {
  const FeatureNetwork a{"recipe-a", "sha-a", 0.9065, std::string("GCLS\0\x01\xff", 7)};
  const FeatureNetwork b{"recipe-b", "sha-b", 0.5, std::string(1 << 16, 'w')};
  const auto start = decode_start(encode(Start{{a, b}}));
  ASSERT_TRUE(start);
  ASSERT_EQ(start->networks.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const FeatureNetwork& want = i == 0 ? a : b;
    EXPECT_EQ(start->networks[i].recipe, want.recipe);
    EXPECT_EQ(start->networks[i].sha256, want.sha256);
    EXPECT_EQ(start->networks[i].test_accuracy, want.test_accuracy);
    EXPECT_EQ(start->networks[i].file, want.file);
  }
  EXPECT_TRUE(decode_start(encode(Start{}))->networks.empty());
  const std::string one = encode(Start{{a}});
  for (size_t n = 0; n < one.size(); ++n) EXPECT_FALSE(decode_start(one.substr(0, n))) << n;
}

// A message cut anywhere is refused, never read past its end.
TEST(MpiMessages, EveryTruncationIsRefused) {
  const std::string hello = encode(sample_hello());
  for (size_t n = 0; n < hello.size(); ++n) EXPECT_FALSE(decode_hello(hello.substr(0, n))) << n;
  const std::string report = encode(std::vector<ReportItem>{{ReportItem::Type::event, 1, "F", 0}});
  for (size_t n = 0; n < report.size(); ++n) EXPECT_FALSE(decode_report(report.substr(0, n))) << n;
  EXPECT_FALSE(decode_hello(encode_simple(Kind::start)));  // another kind
  EXPECT_FALSE(kind_of(std::string(1, '\x7f')));
}

TEST(MpiMessages, AnImpossibleCountIsRefused) {
  std::string report = encode(std::vector<ReportItem>{});
  report[8] = '\x7f';  // the count's top byte: 2^62 items in 9 bytes
  EXPECT_FALSE(decode_report(report));
}

// Worker ranks forward the events they parsed as lines again: rank 0 must read the same values.
TEST(MpiMessages, EventLinesReadBackExactly) {
  Event m;
  m.type = Event::Type::metric;
  m.step = 30;
  m.key = "modes.hq\tfraction";
  m.value = 0.1 + 0.2;  // not a short decimal: the shortest round-trip form must survive
  auto line = event_line(m);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  auto back = parse_event(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->key, m.key);
  EXPECT_EQ(back->step, 30);
  EXPECT_EQ(back->value, 0.1 + 0.2);

  Event r;
  r.type = Event::Type::result;
  r.result.outcome = TrialOutcome::diverged;
  r.result.step = 12;
  r.result.d_updates = 60;
  r.result.g_updates = 12;
  r.result.message = "non-finite loss.d\nat step 12";
  line = event_line(r);
  line.pop_back();
  back = parse_event(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->result.outcome, TrialOutcome::diverged);
  EXPECT_EQ(back->result.d_updates, 60);
  EXPECT_EQ(back->result.message, r.result.message);

  Event a;
  a.type = Event::Type::artifact;
  a.step = 20;
  a.key = "samples";
  a.mime = "image/png";
  a.bytes = std::string("\x89PNG\0\n\t\\", 8);
  line = event_line(a);
  line.pop_back();
  back = parse_event(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->bytes, a.bytes);

  Event p;
  p.type = Event::Type::progress;
  p.step = 5;
  p.steps = 20;
  p.d_loss = std::numeric_limits<double>::infinity();
  p.g_loss = -1.5;
  line = event_line(p);
  line.pop_back();
  back = parse_event(line);
  ASSERT_TRUE(back);
  EXPECT_TRUE(std::isinf(back->d_loss));
  EXPECT_EQ(back->g_loss, -1.5);
}

}  // namespace
}  // namespace gantry::mpi
