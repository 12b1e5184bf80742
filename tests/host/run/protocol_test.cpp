#include "run/protocol.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <unistd.h>

namespace gantry {
namespace {

std::vector<Event> round_trip(const std::function<void(PipeSink&)>& write) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  {
    PipeSink sink(fds[1]);
    write(sink);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  std::vector<Event> out;
  size_t start = 0, nl;
  while ((nl = text.find('\n', start)) != std::string::npos) {
    auto e = parse_event(std::string_view(text).substr(start, nl - start));
    EXPECT_TRUE(e.has_value()) << text.substr(start, nl - start);
    if (e) out.push_back(*e);
    start = nl + 1;
  }
  return out;
}

TEST(Protocol, EventsRoundTrip) {
  const auto events = round_trip([](PipeSink& s) {
    s.metric(10, "modes.high_quality", 0.1 + 0.2);
    s.metric(11, "loss.g", std::nan(""));
    s.progress(12, 100, 1.5, -2.25);
    s.flush();
    s.result({TrialOutcome::diverged, 12, "non-finite\tloss\nat step 12 \\ here", 60, 12});
    s.error("bad\nthing");
    s.artifact(20, "samples", "image/png", std::string("\x89PNG\r\n\x1a\n\0\xff", 10));
    s.note("image_quality.reference", "fashion_mnist test split,\t10000 images");
  });
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[7].type, Event::Type::note);
  EXPECT_EQ(events[7].key, "image_quality.reference");
  EXPECT_EQ(events[7].message, "fashion_mnist test split,\t10000 images");
  EXPECT_EQ(events[6].type, Event::Type::artifact);
  EXPECT_EQ(events[6].key, "samples");
  EXPECT_EQ(events[6].bytes, std::string("\x89PNG\r\n\x1a\n\0\xff", 10));
  EXPECT_EQ(events[0].key, "modes.high_quality");
  EXPECT_EQ(events[0].value, 0.1 + 0.2);  // every bit survives
  EXPECT_TRUE(std::isnan(events[1].value));
  EXPECT_EQ(events[2].steps, 100);
  EXPECT_EQ(events[2].g_loss, -2.25);
  EXPECT_EQ(events[3].type, Event::Type::flush);
  EXPECT_EQ(events[4].result.outcome, TrialOutcome::diverged);
  EXPECT_EQ(events[4].result.message, "non-finite\tloss\nat step 12 \\ here");
  EXPECT_EQ(events[4].result.d_updates, 60);
  EXPECT_EQ(events[5].message, "bad\nthing");
}

TEST(Protocol, CheckpointAndResumeEventsRoundTrip) {
  const auto events = round_trip([](PipeSink& s) {
    s.checkpoint(1000, 123456789, "ab12");
    s.resumed(40, "checkpoint x: missing;\tresumed from the checkpoint of step 40");
  });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, Event::Type::checkpoint);
  EXPECT_EQ(events[0].step, 1000);
  EXPECT_EQ(events[0].size, 123456789);
  EXPECT_EQ(events[0].key, "ab12");
  EXPECT_EQ(events[1].type, Event::Type::resumed);
  EXPECT_EQ(events[1].step, 40);
  EXPECT_EQ(events[1].message, "checkpoint x: missing;\tresumed from the checkpoint of step 40");
  EXPECT_FALSE(parse_event("C\t10\tmany\tab12"));
  EXPECT_FALSE(parse_event("S\tten\tmessage"));
}

TEST(Protocol, MalformedLinesAreRejected) {
  EXPECT_FALSE(parse_event(""));
  EXPECT_FALSE(parse_event("M\tx\tkey\t1"));
  EXPECT_FALSE(parse_event("R\t9\t1\t1\t1\tmsg"));
  EXPECT_FALSE(parse_event("Z\t1"));
}

}  // namespace
}  // namespace gantry
