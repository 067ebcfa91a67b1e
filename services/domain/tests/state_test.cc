#define BOOST_TEST_MODULE state
#include "services/compliance/policy.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/compliance_gate.h"
#include "services/domain/internal.h"
#include "services/domain/pipeline.h"

#include "absl/time/civil_time.h"

#include "services/domain/tests/chicago_account.h"
#include "services/domain/tests/outcome_kind.h"

#include <boost/test/unit_test.hpp>

// The writer's internal state (AccountState) against the public read model (v1::Account): the
// state is bounded by the policy's contact horizon, and yet every decision on it equals the
// decision on the whole history. Tables: given events (commands through the writer's pipeline),
// when a command, then the same decision and events, with or without the history.

namespace collections {
namespace {

using testing::Local;
using testing::OpenRequest;
using testing::Policy;
using testing::With;

v1::RecordContactAttemptRequest Contact(
    const std::string& command_id, const std::string& contact_id,
    v1::ContactChannel channel = v1::CONTACT_CHANNEL_CALL,
    v1::ContactOutcome outcome = v1::CONTACT_OUTCOME_NO_ANSWER) {
  v1::RecordContactAttemptRequest r;
  r.set_contact_id(contact_id);
  r.set_channel(channel);
  r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  if (channel == v1::CONTACT_CHANNEL_CALL) {
    r.set_address("+13125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
  } else {
    r.set_address("jane@example.com");
  }
  r.set_outcome(outcome);
  r.mutable_content()->set_has_debt_collector_disclosure(true);
  r.mutable_content()->set_has_opt_out_notice(true);
  return With(command_id, r);
}

v1::PostPaymentRequest Pay(const std::string& command_id, int64_t minor) {
  v1::PostPaymentRequest r;
  r.set_payment_id("P-" + command_id);
  r.mutable_amount()->set_amount_minor(minor);
  r.mutable_amount()->set_currency("USD");
  r.set_method(v1::PAYMENT_METHOD_ACH);
  return With(command_id, r);
}

// A promise of `minor` due on the local day of `due`.
v1::RecordPromiseToPayRequest Promise(const std::string& command_id, int64_t minor,
                                      absl::Time due) {
  v1::RecordPromiseToPayRequest r;
  r.set_promise_id("PR-" + command_id);
  r.mutable_amount()->set_amount_minor(minor);
  r.mutable_amount()->set_currency("USD");
  const absl::CivilDay day =
      absl::ToCivilDay(due, absl::FixedTimeZone(-6 * 3600));  // Chicago, standard time
  r.mutable_due_date()->set_year(static_cast<int32_t>(day.year()));
  r.mutable_due_date()->set_month(day.month());
  r.mutable_due_date()->set_day(day.day());
  r.set_channel(v1::CONTACT_CHANNEL_CALL);
  return With(command_id, r);
}

// One account as the writer keeps it: commands through the pipeline, the log they append.
struct Log {
  AccountState state;
  std::vector<v1::EventEnvelope> events;
  DomainSettings domain;
  int ids = 0;

  PipelineSettings Settings() {
    PipelineSettings s;
    s.domain = &domain;
    s.policy = &Policy();
    s.new_event_id = [this] { return "ev-" + std::to_string(++ids); };
    return s;
  }
  CommandOutcome When(const Command& command, absl::Time now, bool dry_run = false) {
    CommandInput input;
    input.command = &command;
    input.now = now;
    input.dry_run = dry_run;
    CommandOutcome out = RunCommand(state, state.version() > 0, input, Settings());
    for (const auto& e : out.time_events) events.push_back(e);
    if (out.kind == CommandOutcome::Kind::kAppend) {
      for (const auto& e : out.events) events.push_back(e);
    }
    return out;
  }
};

// What a user sees of a decision: outcome, rule, reason, counters, when it is allowed.
std::string Seen(const CommandOutcome& o) {
  v1::ComplianceDecision d = o.decision;
  for (const auto& e : o.events) {
    if (e.has_decision()) d = e.decision();
  }
  std::string counters;
  std::map<std::string, int64_t> sorted(d.counters().begin(), d.counters().end());
  for (const auto& [k, v] : sorted) counters += k + "=" + std::to_string(v) + " ";
  return Kind(o) + " | " + d.outcome() + " " + d.rule_id() + " | " + d.reason() + " | " +
         counters + "| " + std::to_string(d.allowed_from().seconds());
}

const absl::Duration kHorizon = ContactHorizon(Policy());

BOOST_AUTO_TEST_CASE(the_horizon_is_the_longest_window_plus_the_backdating_limit) {
  // Default policy: S-MA's 30-day window (+1 day for local midnights), 24 h of back-dating,
  // a day of skew.
  BOOST_TEST(absl::ToInt64Hours(LongestWindow(Policy())) == 31 * 24);
  BOOST_TEST(absl::ToInt64Hours(kHorizon) == 33 * 24);
}

// (a) A contact older than the horizon is pruned from the state and no longer influences a
// decision; the read model keeps it; its id stays taken.
BOOST_AUTO_TEST_CASE(a_contact_older_than_the_horizon_is_pruned_and_decides_nothing) {
  Log log;
  log.When(OpenRequest(), Local(2025, 10, 6, 9));
  for (int day = 6; day <= 12; ++day) {
    auto out = log.When(Contact("call-" + std::to_string(day), "C" + std::to_string(day)),
                        Local(2025, 10, day, 10));
    BOOST_REQUIRE(Kind(out) == "append");
  }
  // Given seven calls this week, the eighth is blocked: the contacts decide.
  BOOST_TEST(Kind(log.When(Contact("call-8th", "CX"), Local(2025, 10, 12, 16), true)) ==
             "dry-run");
  BOOST_TEST(Seen(log.When(Contact("call-8th", "CX"), Local(2025, 10, 12, 16), true))
                 .find("BLOCK F1") != std::string::npos);
  BOOST_TEST(log.state.contacts_size() == 7);

  struct Step {
    const char* why;
    absl::Time at;      // a payment recorded then moves the state's recorded time
    int contacts_kept;  // of C6 .. C12 (10:00 on Oct 6 .. 12)
  };
  const std::vector<Step> steps = {
      {"inside the horizon of every call", Local(2025, 11, 7, 9), 7},
      // Oct 6 10:00 CDT + 33 x 24 h = Nov 8 09:00 CST (summer time ended on Nov 2).
      {"the first call just past the horizon", Local(2025, 11, 8, 9, 30), 6},
      {"every call past it", Local(2025, 11, 20, 10), 0},
  };
  int n = 0;
  for (const auto& s : steps) {
    BOOST_TEST_CONTEXT(s.why) {
      BOOST_REQUIRE(Kind(log.When(Pay("pay-" + std::to_string(++n), 100), s.at)) == "append");
      BOOST_TEST(log.state.contacts_size() == s.contacts_kept);
      BOOST_TEST(log.state.pruned_contact_ids_size() == 7 - s.contacts_kept);
      BOOST_TEST(internal::ToTime(log.state.pruned_before()) == s.at - kHorizon);
    }
  }
  // The read model built from the same log keeps every contact.
  v1::Account read_model;
  for (const auto& e : log.events) Evolve(read_model, e);
  BOOST_TEST(read_model.contacts_size() == 7);

  // When a call now: nothing old counts; a pruned contact's id is still taken.
  auto now = log.When(Contact("call-new", "C-new"), Local(2025, 11, 20, 11), true);
  BOOST_TEST(Seen(now).find("calls_in_window=0") != std::string::npos, Seen(now));
  BOOST_TEST(Kind(log.When(Contact("call-again", "C9"), Local(2025, 11, 20, 11))) ==
             "refused CONTACT_EXISTS");
}

// What the rules keep of pruned contacts: the first communication (F11's clock) and whether a
// conversation took place (F16) survive the pruning.
BOOST_AUTO_TEST_CASE(what_the_rules_read_of_pruned_contacts_survives) {
  Log log;
  log.When(OpenRequest(), Local(2025, 10, 6, 9));
  BOOST_REQUIRE(Kind(log.When(Contact("talk", "C1", v1::CONTACT_CHANNEL_CALL,
                                      v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION),
                              Local(2025, 10, 6, 10))) == "append");
  const compliance::CaseFacts before = FactsFor(log.state);
  BOOST_REQUIRE(Kind(log.When(Pay("later", 100), Local(2026, 1, 10, 10))) == "append");
  BOOST_TEST(log.state.contacts_size() == 0);
  const compliance::CaseFacts after = FactsFor(log.state);
  BOOST_REQUIRE(after.first_communication_at.has_value());
  BOOST_TEST(*after.first_communication_at == *before.first_communication_at);
  BOOST_TEST(*after.first_communication_at == Local(2025, 10, 6, 10));
  BOOST_TEST(after.bureau.conversation_held);
  BOOST_TEST(internal::ToTime(log.state.first_communication_at()) == Local(2025, 10, 6, 10));
}

// (b) On a long history, every decision equals the one on the whole history (the same log,
// nothing pruned) and the one on an account that only has the recent facts.
BOOST_AUTO_TEST_CASE(decisions_on_a_long_history_equal_those_on_its_recent_facts) {
  const absl::Time start = Local(2025, 1, 6, 9);
  const absl::Time end = start + absl::Hours(24) * 300;
  auto history = [](Log& log, absl::Time from, absl::Time to, int* k) {
    for (absl::Time day = from; day < to; day += absl::Hours(24)) {
      const std::string id = std::to_string(++*k);
      log.When(Contact("call-" + id, "C" + id), day + absl::Hours(1));
      if (*k % 3 == 0) {
        log.When(Contact("mail-" + id, "M" + id, v1::CONTACT_CHANNEL_EMAIL,
                         v1::CONTACT_OUTCOME_DELIVERED),
                 day + absl::Hours(2));
      }
      if (*k % 7 == 0) log.When(Pay("pay-" + id, 100), day + absl::Hours(3));
    }
  };
  // A conversation first: F16 (which reads delivered messages) is moot from then on, so the
  // state keeps no message past the horizon.
  auto opened = [&](Log& log) {
    log.When(OpenRequest(), start);
    log.When(Contact("talk", "T1", v1::CONTACT_CHANNEL_CALL,
                     v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION),
             start + absl::Hours(1));
  };
  Log long_log;
  opened(long_log);
  int k = 8;
  history(long_log, start + absl::Hours(24) * k, end, &k);
  // The same account, with only the last horizon's worth of facts.
  Log recent;
  opened(recent);
  const absl::Time recent_from = end - kHorizon - absl::Hours(48);
  int j = static_cast<int>((recent_from - start) / absl::Hours(24));
  history(recent, start + absl::Hours(24) * j, end, &j);
  // The whole history as one AccountState, nothing pruned.
  AccountState whole;
  for (const auto& e : long_log.events) Evolve(whole, e, StateHorizon{});

  BOOST_TEST(long_log.state.contacts_size() < whole.contacts_size() / 5);
  // The copy Decide and the time rules simulate on leaves out only what it is told to.
  BOOST_TEST(internal::CopyWithout(long_log.state, {}).DebugString() ==
             long_log.state.DebugString());
  BOOST_TEST(internal::CopyWithout(long_log.state, {"payments"}).payments_size() == 0);
  BOOST_TEST(internal::CopyWithout(long_log.state, {"payments"}).contacts_size() ==
             long_log.state.contacts_size());
  BOOST_TEST(long_log.state.contacts_size() == recent.state.contacts_size());

  struct Probe {
    const char* why;
    std::function<Command()> command;
    absl::Duration after_end;
  };
  const std::vector<Probe> probes = {
      {"a call now", [] { return Command(Contact("p1", "P1")); }, absl::Hours(2)},
      {"a call at night",
       [] { return Command(Contact("p2", "P2")); }, absl::Hours(14)},
      {"an e-mail", [] {
         return Command(Contact("p3", "P3", v1::CONTACT_CHANNEL_EMAIL,
                                v1::CONTACT_OUTCOME_DELIVERED));
       }, absl::Hours(3)},
      {"a call back-dated by 20 hours", [] {
         auto r = Contact("p4", "P4");
         *r.mutable_occurred_at() = internal::ToProto(
             Local(2025, 1, 6, 9) + absl::Hours(24) * 300 - absl::Hours(19));
         return Command(r);
       }, absl::Hours(1)},
      {"a payment", [] { return Command(Pay("p5", 100)); }, absl::Hours(2)},
  };
  for (const auto& p : probes) {
    BOOST_TEST_CONTEXT(p.why) {
      const absl::Time at = end + p.after_end;
      Log bounded = long_log;
      Log unbounded = long_log;
      unbounded.state = whole;
      Log fresh = recent;
      const std::string on_bounded = Seen(bounded.When(p.command(), at, true));
      BOOST_TEST(on_bounded == Seen(unbounded.When(p.command(), at, true)));
      BOOST_TEST(on_bounded == Seen(fresh.When(p.command(), at, true)));
      // Appended: the same events (ids aside, the log differs in length).
      auto a = bounded.When(p.command(), at);
      auto b = unbounded.When(p.command(), at);
      BOOST_TEST(Seen(a) == Seen(b));
      BOOST_REQUIRE(a.events.size() == b.events.size());
      for (size_t i = 0; i < a.events.size(); ++i) {
        BOOST_TEST(a.events[i].DebugString() == b.events[i].DebugString());
      }
    }
  }
}

// (c) The state restored from the log (offset 0, or a checkpoint and the rest of the log)
// equals the live state byte for byte, pruning included.
BOOST_AUTO_TEST_CASE(a_restore_reaches_the_live_state) {
  Log log;
  const absl::Time start = Local(2025, 1, 6, 9);
  log.domain.payment_reversal_days = 30;
  log.When(OpenRequest(), start);
  int k = 0;
  for (int day = 0; day < 120; ++day) {
    const std::string id = std::to_string(++k);
    log.When(Contact("call-" + id, "C" + id), start + absl::Hours(24) * day + absl::Hours(1));
    if (day % 10 == 0) log.When(Pay("pay-" + id, 100), start + absl::Hours(24) * day);
    if (day % 10 == 5) {
      log.When(Promise("promise-" + id, 100, start + absl::Hours(24) * (day + 2)),
               start + absl::Hours(24) * day);
    }
  }
  BOOST_REQUIRE(log.state.pruned_contact_ids_size() > 0);
  BOOST_REQUIRE(log.state.pruned_payment_ids_size() > 0);
  BOOST_REQUIRE(log.state.pruned_promise_ids_size() > 0);
  const StateHorizon horizon = StateHorizonFor(Policy(), log.domain);
  AccountState from_zero;
  for (const auto& e : log.events) Evolve(from_zero, e, horizon);
  BOOST_TEST(from_zero.SerializeAsString() == log.state.SerializeAsString());
  for (size_t checkpoint : {size_t{1}, log.events.size() / 3, log.events.size() - 1}) {
    AccountState stored;
    for (size_t i = 0; i < checkpoint; ++i) Evolve(stored, log.events[i], horizon);
    AccountState restored;
    BOOST_REQUIRE(restored.ParseFromString(stored.SerializeAsString()));
    for (size_t i = checkpoint; i < log.events.size(); ++i) {
      Evolve(restored, log.events[i], horizon);
    }
    BOOST_TEST(restored.SerializeAsString() == log.state.SerializeAsString(), checkpoint);
  }
}

// (d) Payments and resolved promises are bounded too: a weekly promise kept by a payment for
// two years leaves the state holding a reversal window of payments and a contact horizon of
// promises, the same number after one year as after two; every decision about an old payment
// or promise equals the one on the whole history, and their ids stay taken.
BOOST_AUTO_TEST_CASE(payments_and_promises_are_bounded_and_decide_as_the_whole_history) {
  const absl::Time start = Local(2025, 1, 6, 9);
  Log log;
  log.domain.payment_reversal_days = 60;
  log.When(OpenRequest(), start);
  int payments_after_a_year = 0, promises_after_a_year = 0;
  for (int week = 1; week <= 104; ++week) {
    const absl::Time monday = start + absl::Hours(24 * 7) * week;
    const std::string id = std::to_string(week);
    BOOST_REQUIRE(Kind(log.When(Promise("promise-" + id, 100, monday + absl::Hours(48)),
                                monday)) == "append");
    auto paid = log.When(Pay("pay-" + id, 100), monday + absl::Hours(24));
    BOOST_REQUIRE(Kind(paid) == "append");
    BOOST_REQUIRE(paid.events.size() >= 2);  // the payment keeps the promise
    BOOST_REQUIRE(paid.events[1].has_promise_kept());
    if (week == 52) {
      payments_after_a_year = log.state.payments_size();
      promises_after_a_year = log.state.promises_size();
    }
  }
  // 60 days of weekly payments, 33 days of weekly promises.
  BOOST_TEST(log.state.payments_size() == payments_after_a_year);
  BOOST_TEST(log.state.promises_size() == promises_after_a_year);
  BOOST_TEST(log.state.payments_size() <= 9);
  BOOST_TEST(log.state.promises_size() <= 5);
  BOOST_TEST(log.state.pruned_payment_ids_size() + log.state.payments_size() == 104);
  BOOST_TEST(log.state.pruned_promise_ids_size() + log.state.promises_size() == 104);
  // The read model keeps every payment and promise.
  v1::Account read_model;
  for (const auto& e : log.events) Evolve(read_model, e);
  BOOST_TEST(read_model.payments_size() == 104);
  BOOST_TEST(read_model.promises_size() == 104);

  AccountState whole;
  for (const auto& e : log.events) Evolve(whole, e, StateHorizon{});
  BOOST_REQUIRE(whole.payments_size() == 104);
  const absl::Time now = start + absl::Hours(24 * 7) * 104 + absl::Hours(30);
  auto reverse = [](const std::string& command_id, const std::string& payment_id) {
    v1::ReversePaymentRequest r;
    r.set_payment_id(payment_id);
    r.set_reason(v1::REVERSAL_REASON_NSF);
    return Command(With(command_id, r));
  };
  auto cancel = [](const std::string& command_id, const std::string& promise_id) {
    v1::CancelPromiseToPayRequest r;
    r.set_promise_id(promise_id);
    r.set_reason("the consumer changed their mind");
    return Command(With(command_id, r));
  };
  struct Probe {
    const char* why;
    Command command;
    std::string kind;
  };
  const std::vector<Probe> probes = {
      {"a payment id used two years ago", Command(Pay("pay-1", 100)), "refused PAYMENT_EXISTS"},
      {"a reversal of a payment past the window", reverse("rev-old", "P-pay-3"),
       "refused PAYMENT_REVERSAL_WINDOW_PASSED"},
      {"a reversal of last week's payment", reverse("rev-new", "P-pay-104"), "append"},
      {"a promise id used two years ago",
       Command(Promise("promise-2", 100, now + absl::Hours(48))), "refused PROMISE_EXISTS"},
      {"a cancellation of a promise kept long ago", cancel("cancel-old", "PR-promise-2"),
       "refused PROMISE_NOT_PENDING"},
      {"a new payment", Command(Pay("pay-new", 100)), "append"},
  };
  for (const auto& p : probes) {
    BOOST_TEST_CONTEXT(p.why) {
      Log bounded = log;
      Log unbounded = log;
      unbounded.state = whole;
      auto a = bounded.When(p.command, now);
      auto b = unbounded.When(p.command, now);
      BOOST_TEST(Kind(a) == p.kind);
      BOOST_TEST(Kind(b) == p.kind);
      BOOST_REQUIRE(a.events.size() == b.events.size());
      for (size_t i = 0; i < a.events.size(); ++i) {
        BOOST_TEST(a.events[i].DebugString() == b.events[i].DebugString());
      }
    }
  }
}

}  // namespace
}  // namespace collections
