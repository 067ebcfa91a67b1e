#pragma once

#include "absl/time/time.h"
#include "collections/v1/account.pb.h"

#include <optional>
#include <vector>

namespace collections {

// Where an account stands in a work queue at `now`. Pure; safe from any thread.
struct Priority {
  bool actionable = false;  // false: the account needs no collection action (or may not get one)
  int32_t score = 0;        // higher first
  std::vector<v1::PriorityReason> reasons;
  std::optional<absl::Time> contact_allowed_from;  // set while a blocked contact holds it back
};

// Scores the account. Reasons and weights (also in the README):
//   BROKEN_PROMISE 100 (a broken promise and no payment since), MISSED_INSTALMENT 90,
//   CALLBACK_DUE 80, NEW_DELINQUENCY 60 (1-29 days past due, never contacted),
//   PROMISE_DUE 50 (a pending promise due today or earlier), DAYS_PAST_DUE 5 per bucket,
//   CONTACT_BLOCKED -1000 (drops it to the bottom until contact is allowed again).
// Not actionable: paid, settled, closed, sold, placed, in legal, bankrupt, deceased, under a
// cease-communication request, or with a dispute awaiting verification (F13 hold).
Priority Prioritize(const v1::Account& account, absl::Time now);

}  // namespace collections
