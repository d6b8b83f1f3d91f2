#include "harness/acked_inserts.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

namespace kvb {
namespace {

TEST_CASE("the acknowledged limit waits for the lowest id in flight",
          "[acked]") {
  AckedInserts a;
  a.Reset(100, 200);
  CHECK(a.Limit() == 100);
  a.Ack(101);  // 100 is still in flight
  a.Ack(102);
  CHECK(a.Limit() == 100);
  a.Ack(100);  // closes the gap: 100, 101, 102 are all written
  CHECK(a.Limit() == 103);
  a.Ack(5);    // below the window: already counted
  a.Ack(500);  // beyond it: ignored, no overflow
  CHECK(a.Limit() == 103);
  for (uint64_t id = 103; id < 200; id++) a.Ack(id);
  CHECK(a.Limit() == 200);
}

TEST_CASE("concurrent acknowledgements never pass an unacknowledged id",
          "[acked]") {
  // Four writers claim ids from a counter and acknowledge them; an observer
  // checks that every id below each limit it sees was acknowledged before.
  constexpr uint64_t kStart = 1000, kEnd = 201000;
  AckedInserts a;
  a.Reset(kStart, kEnd);
  std::atomic<uint64_t> next{kStart};
  std::vector<std::atomic<uint8_t>> written(kEnd);
  std::atomic<bool> bad{false}, stop{false};
  std::thread observer([&] {
    uint64_t checked = kStart;
    while (!stop.load()) {
      uint64_t l = a.Limit();
      for (; checked < l; checked++) {
        if (!written[checked].load(std::memory_order_acquire)) bad = true;
      }
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; t++) {
    writers.emplace_back([&] {
      for (uint64_t id; (id = next.fetch_add(1)) < kEnd;) {
        written[id].store(1, std::memory_order_release);
        a.Ack(id);
      }
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  observer.join();
  CHECK_FALSE(bad.load());
  CHECK(a.Limit() == kEnd);  // nothing sticks once all are acknowledged
}

}  // namespace
}  // namespace kvb
