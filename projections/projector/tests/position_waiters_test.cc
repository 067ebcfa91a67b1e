#define BOOST_TEST_MODULE position_waiters
#include "projections/projector/position_waiters.h"

#include "absl/time/clock.h"

#include <boost/test/unit_test.hpp>
#include <atomic>
#include <chrono>
#include <thread>

namespace collections {
namespace {

// Polls `done` for up to 5 s: the callbacks run on the registry's thread.
template <typename F>
bool Eventually(F done) {
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (!done()) {
    if (absl::Now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

BOOST_AUTO_TEST_CASE(a_wait_is_answered_when_its_offset_is_applied_and_not_before) {
  PositionWaiters waiters(10);
  waiters.Start();
  std::atomic<int> answer{-1};
  const absl::Time far = absl::Now() + absl::Minutes(5);
  BOOST_REQUIRE(waiters.Add(1, 7, far, [&](bool reached) { answer = reached; }) != 0);
  waiters.Applied(1, 7);  // offsets 0..6 applied: 7 is not
  waiters.Applied(0, 100);  // another partition
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(answer.load() == -1);
  BOOST_TEST(waiters.open_waits() == 1);
  waiters.Applied(1, 8);
  BOOST_TEST(Eventually([&] { return answer.load() == 1; }));
  BOOST_TEST(waiters.open_waits() == 0);
  // Already applied: answered at once.
  std::atomic<int> again{-1};
  waiters.Add(1, 3, far, [&](bool reached) { again = reached; });
  BOOST_TEST(Eventually([&] { return again.load() == 1; }));
}

BOOST_AUTO_TEST_CASE(an_expired_wait_is_answered_not_reached_by_the_timer) {
  PositionWaiters waiters(10);
  waiters.Start();
  std::atomic<int> answer{-1};
  const absl::Time start = absl::Now();
  waiters.Add(0, 5, start + absl::Milliseconds(200), [&](bool reached) { answer = reached; });
  BOOST_TEST(Eventually([&] { return answer.load() == 0; }));
  BOOST_TEST(absl::Now() - start >= absl::Milliseconds(200));
  BOOST_TEST(absl::Now() - start < absl::Seconds(2));
}

BOOST_AUTO_TEST_CASE(a_cancelled_wait_is_never_answered_and_frees_its_place) {
  PositionWaiters waiters(1);
  waiters.Start();
  std::atomic<int> calls{0};
  const absl::Time far = absl::Now() + absl::Minutes(5);
  auto id = waiters.Add(0, 5, far, [&](bool) { ++calls; });
  BOOST_REQUIRE(id != 0);
  // The cap: a second open wait is refused.
  BOOST_TEST(waiters.Add(0, 6, far, [&](bool) { ++calls; }) == 0u);
  BOOST_TEST(waiters.Cancel(id));
  BOOST_TEST(!waiters.Cancel(id));
  waiters.Applied(0, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(calls.load() == 0);
  BOOST_TEST(waiters.Add(0, 20, far, [&](bool) { ++calls; }) != 0u);
}

BOOST_AUTO_TEST_CASE(stop_answers_every_open_wait) {
  std::atomic<int> not_reached{0};
  {
    PositionWaiters waiters(10);
    waiters.Start();
    const absl::Time far = absl::Now() + absl::Minutes(5);
    for (int i = 0; i < 3; ++i) {
      waiters.Add(0, 100 + i, far, [&](bool reached) { not_reached += reached ? 0 : 1; });
    }
    waiters.Stop();
    BOOST_TEST(not_reached.load() == 3);
    // After Stop a wait is answered at once, on the caller's thread.
    waiters.Add(0, 1000, far, [&](bool reached) { not_reached += reached ? 0 : 1; });
    BOOST_TEST(not_reached.load() == 4);
  }
}

}  // namespace
}  // namespace collections
