#define BOOST_TEST_MODULE contact_rules
#include "services/compliance/policy.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/compliance_gate.h"
#include "services/domain/internal.h"
#include "services/domain/pipeline.h"

#include "absl/time/civil_time.h"

#include "services/domain/tests/chicago_account.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>

// Rules that hold for every caller, as tables: given a history, when a command at an instant
// of the service clock, then what the writer's pure pipeline (business time, decide, gate)
// appends or refuses. No broker: tests/contact_rules_test.cc drives the same through gRPC.

namespace collections {
namespace {

using internal::ToProto;

using testing::Local;
using testing::OpenRequest;
using testing::Policy;
using testing::With;

v1::RecordContactAttemptRequest CallRequest(const std::string& id,
                                            v1::ContactOutcome outcome = v1::CONTACT_OUTCOME_NO_ANSWER) {
  v1::RecordContactAttemptRequest r;
  r.set_contact_id(id);
  r.set_channel(v1::CONTACT_CHANNEL_CALL);
  r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  r.set_address("+13125550100");
  r.set_phone_type(v1::PHONE_TYPE_CELL);
  r.set_outcome(outcome);
  return With("call-" + id, r);
}

v1::ReserveContactRequest ReserveRequest(const std::string& id) {
  v1::ReserveContactRequest r;
  r.set_reservation_id(id);
  r.set_channel(v1::CONTACT_CHANNEL_CALL);
  r.set_address("+13125550100");
  r.set_phone_type(v1::PHONE_TYPE_CELL);
  return With("reserve-" + id, r);
}

std::vector<std::string> Types(const std::vector<v1::EventEnvelope>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(EventType(e).substr(std::string("collections.v1.").size()));
  return out;
}

// What a command came to: the events appended (possibly a ContactBlocked) and the refusal.
struct Outcome {
  std::vector<v1::EventEnvelope> events;
  std::optional<Error> refusal;
  v1::ComplianceDecision decision;
};

// Plays the writer's part with the domain's functions, in the writer's order.
struct Writer {
  AccountState account;
  absl::Time now = Local(2025, 10, 6, 10);
  DomainSettings settings;
  int counter = 0;

  void Append(std::vector<v1::EventEnvelope>& events, absl::Time occurred) {
    for (auto& e : events) {
      e.set_account_id("ACC-1");
      e.set_event_id("ev-" + std::to_string(++counter));
      if (!e.has_occurred_at()) *e.mutable_occurred_at() = ToProto(occurred);
      e.set_sequence(account.version() + 1);
      Evolve(account, e, StateHorizon{.contacts = ContactHorizon(Policy())});
    }
  }
  std::vector<v1::EventEnvelope> AdvanceTo(absl::Time t) {
    now = t;
    auto events = DecideTime(account, now, settings);
    Append(events, now);
    return events;
  }
  // The writer's own pipeline (services/domain/pipeline.h), one command at a time.
  Outcome Run(const Command& command) {
    PipelineSettings pipeline;
    pipeline.domain = &settings;
    pipeline.policy = &Policy();
    pipeline.new_event_id = [this] { return "ev-" + std::to_string(++counter); };
    CommandInput input;
    input.command = &command;
    input.now = now;
    CommandOutcome result = RunCommand(account, account.version() > 0, input, pipeline);
    Outcome out;
    out.refusal = std::move(result.error);
    out.events = std::move(result.events);
    for (const auto& e : out.events) {
      if (e.has_decision()) out.decision = e.decision();
    }
    return out;
  }
  Outcome Must(const Command& command) {
    Outcome out = Run(command);
    BOOST_REQUIRE_MESSAGE(!out.refusal, CommandName(command)
                                            << ": " << (out.refusal ? out.refusal->message : ""));
    return out;
  }
  // CheckContact's question: the gate on the current state, recording nothing.
  v1::ComplianceDecision Check(absl::Time at) {
    return Gate(account, ReserveRequest("preflight"), at, Policy()).record;
  }
};

Writer Opened(const std::string& jurisdiction = "IL") {
  Writer w;
  w.Must(OpenRequest(jurisdiction));
  return w;
}

// "OK", "OK late", or the refusal's "<code> <reason or field>".
std::string Summary(const Outcome& o) {
  if (!o.refusal) {
    bool late = !o.events.empty() && o.events.front().has_late_entry();
    return late ? "OK late" : "OK";
  }
  const Error& e = *o.refusal;
  switch (e.code) {
    case Errc::kInvalidArgument:
      return "INVALID_ARGUMENT " + e.field;
    case Errc::kFailedPrecondition:
      return "FAILED_PRECONDITION " + e.reason;
    case Errc::kNotFound:
      return "NOT_FOUND " + e.reason;
    default:
      return "ERROR " + e.reason;
  }
}

template <typename Request>
Request At(Request r, absl::Time t) {
  *r.mutable_occurred_at() = ToProto(t);
  return r;
}

// ---- Business time ---------------------------------------------------------------------------

struct TimeCase {
  const char* why;
  std::function<Command(absl::Time now)> command;
  const char* expected;
};

BOOST_AUTO_TEST_CASE(business_time_has_limits_per_family) {
  auto late_call = [](absl::Duration late, const std::string& role, const std::string& reason) {
    return [=](absl::Time now) -> Command {
      auto r = At(CallRequest("C-late"), now - late);
      r.mutable_actor()->set_role(role);
      r.set_late_entry_reason(reason);
      return r;
    };
  };
  auto payment = [](absl::Duration late, const std::string& role) {
    return [=](absl::Time now) -> Command {
      v1::PostPaymentRequest r;
      r.set_payment_id("P1");
      r.mutable_amount()->set_amount_minor(1000);
      r.mutable_amount()->set_currency("USD");
      r.set_method(v1::PAYMENT_METHOD_ACH);
      r = At(With("pay", r, role), now - late);
      r.set_late_entry_reason("bank file arrived late");
      return r;
    };
  };
  auto letter = [](absl::Duration late) {
    return [=](absl::Time now) -> Command {
      v1::RecordCorrespondenceRequest r;
      r.set_correspondence_id("L1");
      r.set_kind(v1::CORRESPONDENCE_KIND_OTHER);
      r.set_channel(v1::CONTACT_CHANNEL_LETTER);
      r.set_address("1 Main St");
      r.mutable_content()->set_has_debt_collector_disclosure(true);
      return At(With("letter", r), now - late);
    };
  };
  auto assign = [](absl::Duration late) {
    return [=](absl::Time now) -> Command {
      v1::AssignCaseRequest r;
      r.set_queue("late");
      return At(With("assign", r), now - late);
    };
  };
  const TimeCase cases[] = {
      {"a call 1 minute ahead of the service clock (within the skew)",
       late_call(-absl::Minutes(1), "collector", ""), "OK"},
      {"a call 3 minutes ahead", late_call(-absl::Minutes(3), "collector", ""),
       "INVALID_ARGUMENT occurred_at"},
      {"a call five years ahead", late_call(-absl::Hours(24 * 365 * 5), "collector", ""),
       "INVALID_ARGUMENT occurred_at"},
      {"a call 23 hours late", late_call(absl::Hours(23), "collector", ""), "OK"},
      {"a call 25 hours late by a collector", late_call(absl::Hours(25), "collector", "forgot"),
       "FAILED_PRECONDITION LATE_ENTRY_NOT_AUTHORIZED"},
      {"a call 25 hours late by an officer without a reason",
       late_call(absl::Hours(25), "compliance_officer", ""), "INVALID_ARGUMENT late_entry_reason"},
      {"a call 25 hours late by an officer with a reason",
       late_call(absl::Hours(25), "compliance_officer", "dialer log imported late"), "OK late"},
      {"a call a month late by a supervisor with a reason",
       late_call(absl::Hours(24 * 30), "supervisor", "paper log"), "OK late"},
      {"a payment 29 days late", payment(absl::Hours(24 * 29), "collector"), "OK"},
      {"a payment 31 days late by a collector", payment(absl::Hours(24 * 31), "collector"),
       "FAILED_PRECONDITION LATE_ENTRY_NOT_AUTHORIZED"},
      {"a payment 31 days late by a supervisor", payment(absl::Hours(24 * 31), "supervisor"),
       "OK late"},
      {"a letter with its mailing date 9 days ago", letter(absl::Hours(24 * 9)), "OK"},
      {"a letter with its mailing date 11 days ago", letter(absl::Hours(24 * 11)),
       "FAILED_PRECONDITION LATE_ENTRY_NOT_AUTHORIZED"},
      {"an assignment 6 days late", assign(absl::Hours(24 * 6)), "OK"},
      {"an assignment 8 days late", assign(absl::Hours(24 * 8)),
       "FAILED_PRECONDITION LATE_ENTRY_NOT_AUTHORIZED"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.why) {
      Writer w = Opened();
      w.AdvanceTo(Local(2025, 11, 20, 10));
      Outcome o = w.Run(c.command(w.now));
      BOOST_TEST(Summary(o) == c.expected);
    }
  }
  // A payment's value date counts as its business date.
  Writer w = Opened();
  w.AdvanceTo(Local(2025, 11, 20, 10));
  v1::PostPaymentRequest old_value;
  old_value.set_payment_id("P2");
  old_value.mutable_amount()->set_amount_minor(1000);
  old_value.mutable_amount()->set_currency("USD");
  old_value.set_method(v1::PAYMENT_METHOD_ACH);
  old_value.mutable_effective_date()->set_year(2025);
  old_value.mutable_effective_date()->set_month(10);
  old_value.mutable_effective_date()->set_day(1);
  BOOST_TEST(Summary(w.Run(With("pay-old", old_value))) ==
             "FAILED_PRECONDITION LATE_ENTRY_NOT_AUTHORIZED");
  // The mark says who allowed it, why, and by how much it was late.
  const absl::Duration by = absl::Hours(25) + absl::Minutes(30);  // 08:30 the day before
  Outcome late = w.Run(late_call(by, "compliance_officer", "imported")(w.now));
  BOOST_REQUIRE(!late.refusal);
  const v1::LateEntry& mark = late.events.front().late_entry();
  BOOST_TEST(mark.family() == "contact");
  BOOST_TEST(mark.late_by_seconds() == absl::ToInt64Seconds(by));
  BOOST_TEST(mark.limit_seconds() == 24 * 3600);
  BOOST_TEST(mark.authorized_by() == "collector-1");  // With() named the actor
  BOOST_TEST(mark.role() == "compliance_officer");
  BOOST_TEST(mark.reason() == "imported");
}

// ---- A back-dated call joins the whole history ----------------------------------------------

BOOST_AUTO_TEST_CASE(a_back_dated_call_is_judged_by_the_calls_recorded_after_it) {
  Writer w = Opened();
  // Given seven calls Oct 6 ... 12 at 10:00, each recorded when made.
  for (int day = 6; day <= 12; ++day) {
    w.AdvanceTo(Local(2025, 10, day, 10));
    w.Must(CallRequest("C" + std::to_string(day)));
  }
  // When an eighth, made Oct 12 09:00, is recorded at 11:00 as a request: refused by F1.
  w.AdvanceTo(Local(2025, 10, 12, 11));
  Outcome refused = w.Run(At(CallRequest("C-early"), Local(2025, 10, 12, 9)));
  BOOST_TEST(Summary(refused) == "FAILED_PRECONDITION F1");
  BOOST_TEST((Types(refused.events) == std::vector<std::string>{"ContactBlocked"}));
  // As a report of a call that took place: recorded, and so is the violation.
  auto happened = At(CallRequest("C-early"), Local(2025, 10, 12, 9));
  happened.set_command_id("call-C-early-2");
  happened.set_took_place(true);
  Outcome recorded = w.Must(happened);
  BOOST_TEST((Types(recorded.events) ==
              std::vector<std::string>{"ContactAttempted", "ComplianceViolationRecorded"}));
  BOOST_TEST(recorded.events[0].decision().outcome() == "VIOLATION");
  BOOST_TEST(recorded.events[0].decision().outcome_code() == v1::DECISION_OUTCOME_VIOLATION);
  BOOST_TEST(recorded.events[0].contact_attempted().contact().violation());
  BOOST_TEST(recorded.events[1].compliance_violation_recorded().rule_id() == "F1");
  BOOST_TEST(recorded.events[1].compliance_violation_recorded().subject_id() == "C-early");
  BOOST_TEST(w.account.contacts_size() == 8);
}

// ---- Reservations ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reservations_count_at_once_expire_unused_and_complete_once) {
  Writer w = Opened();
  for (int day = 6; day <= 11; ++day) {
    w.AdvanceTo(Local(2025, 10, day, 10));
    w.Must(CallRequest("C" + std::to_string(day)));
  }
  // Six calls in the window: one reservation is granted, and counts at once.
  w.AdvanceTo(Local(2025, 10, 12, 10));
  Outcome granted = w.Must(ReserveRequest("R1"));
  BOOST_TEST((Types(granted.events) == std::vector<std::string>{"ContactReserved"}));
  BOOST_TEST(w.account.reservations_size() == 1);
  BOOST_TEST(Summary(w.Run(ReserveRequest("R2"))) == "FAILED_PRECONDITION F1");
  BOOST_TEST(w.Check(w.now).outcome() == "BLOCK");  // CheckContact counts it too
  BOOST_TEST(w.Check(w.now).counters().at("calls_in_window") == 7);

  // Unused, it expires after the policy's 10 minutes and stops counting.
  auto expired = w.AdvanceTo(Local(2025, 10, 12, 10, 10));
  BOOST_TEST((Types(expired) == std::vector<std::string>{"ContactReservationExpired"}));
  BOOST_TEST(w.account.reservations_size() == 0);
  BOOST_TEST(w.Check(w.now).outcome() == "ALLOW");
  BOOST_TEST(Summary(w.Run(CallRequest("C-done"))) == "OK");  // an ordinary record is fine
  BOOST_TEST(Summary(w.Run(ReserveRequest("R3"))) == "FAILED_PRECONDITION F1");

  // Completing: the call replaces its reservation, counted once.
  Writer m = Opened();
  m.AdvanceTo(Local(2025, 10, 6, 10));
  m.Must(ReserveRequest("R1"));
  auto call = CallRequest("C1");
  call.set_reservation_id("R1");
  Outcome completed = m.Must(call);
  BOOST_TEST(completed.events[0].contact_attempted().contact().reservation_id() == "R1");
  BOOST_TEST(m.account.reservations_size() == 0);
  BOOST_TEST(m.Check(m.now).counters().at("calls_in_window") == 1);
  // A reservation completes once; another channel or number is another contact.
  auto again = CallRequest("C2");
  again.set_reservation_id("R1");
  BOOST_TEST(Summary(m.Run(again)) == "NOT_FOUND RESERVATION_NOT_FOUND");
  m.Must(ReserveRequest("R2"));
  auto other = CallRequest("C3");
  other.set_reservation_id("R2");
  other.set_address("+13125550199");
  BOOST_TEST(Summary(m.Run(other)) == "FAILED_PRECONDITION RESERVATION_MISMATCH");
  BOOST_TEST(Summary(m.Run(ReserveRequest("R2"))) == "ERROR RESERVATION_EXISTS");
}

BOOST_AUTO_TEST_CASE(a_completed_reservation_that_now_breaks_a_rule_is_a_violation) {
  Writer w = Opened();
  w.AdvanceTo(Local(2025, 10, 6, 20, 55));
  w.Must(ReserveRequest("R1"));
  // Dialed late: the call at 21:02 breaks F4; it took place, so it is recorded as a violation.
  w.AdvanceTo(Local(2025, 10, 6, 21, 2));
  auto call = CallRequest("C1");
  call.set_reservation_id("R1");
  Outcome o = w.Must(call);
  BOOST_TEST(o.decision.rule_id() == "F4");
  BOOST_TEST((Types(o.events) ==
              std::vector<std::string>{"ContactAttempted", "ComplianceViolationRecorded"}));
}

// ---- Consent -----------------------------------------------------------------------------------

v1::UpdateFlagRequest Consent(const std::string& id, bool revoked = false) {
  v1::UpdateFlagRequest r;
  r.set_reason("consumer asked us to call every day this week");
  auto* c = r.mutable_consent();
  c->set_consent_id(id);
  c->set_kind(v1::CONSENT_KIND_CALLS);
  c->set_channel(v1::CONTACT_CHANNEL_CALL);
  c->set_given_directly_to_collector(true);
  c->set_given_by("consumer");
  c->set_revoked(revoked);
  return With("consent-" + id + (revoked ? "-revoked" : ""), r);
}

BOOST_AUTO_TEST_CASE(consent_is_a_recorded_fact_and_a_claim_is_not_believed) {
  // Claimed, not on file: every call counts, and each claim is flagged.
  Writer claimed = Opened();
  for (int day = 6; day <= 12; ++day) {
    claimed.AdvanceTo(Local(2025, 10, day, 10));
    auto call = CallRequest("C" + std::to_string(day));
    call.set_under_consent(true);
    Outcome o = claimed.Must(call);
    BOOST_TEST(o.decision.flags_size() == 1);
    BOOST_TEST(o.decision.flags(0) == "CONSENT:NOT_ON_FILE");
  }
  claimed.AdvanceTo(Local(2025, 10, 12, 16));
  auto eighth = CallRequest("C-eighth");
  eighth.set_under_consent(true);
  BOOST_TEST(Summary(claimed.Run(eighth)) == "FAILED_PRECONDITION F1");

  // Recorded on Oct 6 (day 1 of 7): the calls of Oct 6 ... 12 are exempt, even unflagged,
  // and stay exempt after the consent is revoked; the Oct 13 call sees a window of none.
  Writer recorded = Opened();
  recorded.AdvanceTo(Local(2025, 10, 6, 9));
  recorded.Must(Consent("K1"));
  BOOST_TEST(recorded.account.flags().consents(0).given_to() == "collector-1");
  for (int day = 6; day <= 12; ++day) {
    recorded.AdvanceTo(Local(2025, 10, day, 10));
    recorded.Must(CallRequest("C" + std::to_string(day)));
  }
  recorded.AdvanceTo(Local(2025, 10, 12, 16));
  BOOST_TEST(recorded.Check(recorded.now).outcome() == "ALLOW");
  recorded.Must(Consent("K1", /*revoked=*/true));
  const auto& k1 = recorded.account.flags().consents(0);
  BOOST_TEST(k1.revoked());
  BOOST_TEST(k1.given_at().seconds() == absl::ToUnixSeconds(Local(2025, 10, 6, 9)));
  BOOST_TEST(k1.revoked_at().seconds() == absl::ToUnixSeconds(Local(2025, 10, 12, 16)));
  recorded.AdvanceTo(Local(2025, 10, 13, 10));
  v1::ComplianceDecision after = recorded.Check(recorded.now);
  BOOST_TEST(after.outcome() == "ALLOW");
  BOOST_TEST(after.counters().at("calls_in_window") == 0);
}

// ---- Massachusetts outcomes ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(massachusetts_counts_unanswered_calls_where_a_message_was_possible) {
  Writer w = Opened("MA");
  w.AdvanceTo(Local(2025, 10, 6, 10));
  w.Must(CallRequest("C1", v1::CONTACT_OUTCOME_NO_ANSWER_MESSAGE_POSSIBLE));
  w.AdvanceTo(Local(2025, 10, 7, 10));
  w.Must(CallRequest("C2", v1::CONTACT_OUTCOME_NO_ANSWER));  // no way to leave one: not counted
  w.AdvanceTo(Local(2025, 10, 8, 10));
  w.Must(CallRequest("C3", v1::CONTACT_OUTCOME_ANSWERING_MACHINE_NO_MESSAGE));
  w.AdvanceTo(Local(2025, 10, 9, 10));
  v1::ComplianceDecision d = w.Check(w.now);
  BOOST_TEST(d.rule_id() == "S-MA");
  BOOST_TEST(d.counters().at("ma_contacts_in_window") == 2);
}

// ---- Commercial accounts ---------------------------------------------------------------------

// ACC-1 linked to a customer (the AccountCustomerLinked event the customer's command emits),
// as a business's debt or not.
Writer Linked(bool commercial) {
  Writer w = Opened();
  std::vector<v1::EventEnvelope> linked(1);
  linked[0].mutable_account_customer_linked()->set_customer_id("CUST-1");
  linked[0].mutable_account_customer_linked()->set_reason("the debtor is Acme Ltd");
  linked[0].mutable_account_customer_linked()->set_commercial(commercial);
  w.Append(linked, w.now);
  BOOST_REQUIRE(w.account.commercial() == commercial);
  return w;
}

BOOST_AUTO_TEST_CASE(a_commercial_account_is_called_in_business_hours_not_by_reg_f) {
  // Monday 2025-10-06 19:00 in Chicago: too late for a business, fine for a consumer (F4: 21:00).
  Writer business = Linked(true);
  business.AdvanceTo(Local(2025, 10, 6, 19));
  Outcome refused = business.Run(CallRequest("C1"));
  BOOST_TEST(Summary(refused) == "FAILED_PRECONDITION B1");
  BOOST_REQUIRE(refused.refusal);
  BOOST_TEST((refused.refusal->code == Errc::kFailedPrecondition));
  BOOST_TEST(refused.refusal->message.find("allowed from 2025-10-07T08:00 America/Chicago") !=
                 std::string::npos,
             refused.refusal->message);
  BOOST_TEST((Types(refused.events) == std::vector<std::string>{"ContactBlocked"}));
  BOOST_TEST(refused.decision.rule_id() == "B1");
  BOOST_TEST((std::vector<std::string>(refused.decision.rules_evaluated().begin(),
                                       refused.decision.rules_evaluated().end()) ==
              std::vector<std::string>{"O1", "O2", "B2", "B1"}));
  // The next morning it goes through, and no consumer rule was asked.
  business.AdvanceTo(Local(2025, 10, 7, 8));
  Outcome morning = business.Must(CallRequest("C1"));
  BOOST_TEST(morning.decision.outcome() == "ALLOW");
  BOOST_TEST(morning.decision.counters().at("commercial_calls_in_window") == 0);

  // Linked to a customer but a consumer's debt: the Reg F rules still apply.
  Writer consumer = Linked(false);
  consumer.AdvanceTo(Local(2025, 10, 6, 19));
  Outcome allowed = consumer.Must(CallRequest("C1"));
  const auto& evaluated = allowed.decision.rules_evaluated();
  BOOST_TEST(std::count(evaluated.begin(), evaluated.end(), "F1") == 1);
  BOOST_TEST(std::count(evaluated.begin(), evaluated.end(), "F4") == 1);
  BOOST_TEST(std::count(evaluated.begin(), evaluated.end(), "B1") == 0);
  consumer.AdvanceTo(Local(2025, 10, 6, 21, 30));
  BOOST_TEST(Summary(consumer.Run(CallRequest("C2"))) == "FAILED_PRECONDITION F4");
}

BOOST_AUTO_TEST_CASE(a_commercial_account_has_its_own_call_cap) {
  // Ten calls Monday to Friday, two a day: more than F1's seven, within B2's ten.
  Writer w = Linked(true);
  for (int i = 0; i < 10; ++i) {
    w.AdvanceTo(Local(2025, 10, 6 + i / 2, i % 2 == 0 ? 9 : 11));
    w.Must(CallRequest("C" + std::to_string(i + 1)));
  }
  w.AdvanceTo(Local(2025, 10, 10, 15));
  Outcome eleventh = w.Run(CallRequest("C11"));
  BOOST_TEST(Summary(eleventh) == "FAILED_PRECONDITION B2");
  BOOST_TEST(eleventh.decision.counters().at("commercial_calls_in_window") == 10);
  // A reservation is judged the same way (CheckContact too).
  BOOST_TEST(Summary(w.Run(ReserveRequest("R1"))) == "FAILED_PRECONDITION B2");
  BOOST_TEST(w.Check(w.now).rule_id() == "B2");
}

BOOST_AUTO_TEST_CASE(an_officer_overrides_b1_as_any_rule) {
  Writer w = Linked(true);
  w.AdvanceTo(Local(2025, 10, 6, 19));
  BOOST_TEST(Summary(w.Run(CallRequest("C1"))) == "FAILED_PRECONDITION B1");
  v1::AuthorizeOverrideRequest o;
  o.set_override_id("OV-1");
  o.set_rule_id("B1");
  o.set_command("RecordContactAttempt");
  o.set_reason("the customer's finance office asked for a call after closing");
  w.Must(With("override-1", o, "compliance_officer"));
  auto call = CallRequest("C1");
  call.set_command_id("call-C1-again");
  Outcome through = w.Must(call);
  BOOST_TEST(through.decision.outcome() == "OVERRIDDEN");
  BOOST_TEST(through.decision.rule_id() == "B1");
  BOOST_TEST(through.decision.override_id() == "OV-1");
}

}  // namespace
}  // namespace collections
