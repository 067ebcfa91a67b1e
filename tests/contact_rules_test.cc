// Rules that hold for every caller, end to end through gRPC on the real broker: business time
// with limits (the service clock decides), a back-dated call judged by the whole history it
// joins, contacts that took place recorded with their violation, consent as a recorded fact,
// ReserveContact under concurrency and expiry, and the outcomes Massachusetts counts.
#define BOOST_TEST_MODULE contact_rules
#include "tests/support/fixture.h"

#include "collections/v1/compliance_service.grpc.pb.h"

#include <boost/test/unit_test.hpp>
#include <thread>

namespace collections::testing {
namespace {

constexpr char kChicago[] = "America/Chicago";

absl::Time At(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), Zone(kChicago));
}

struct Rules : ClockedService {
  explicit Rules(absl::Time start) : ClockedService(start, "contact-rules") {}

  void Open(const std::string& id, const std::string& jurisdiction = "IL") {
    v1::OpenCaseRequest r = OpenCase(id, "open-" + id);
    r.clear_command_id();
    r.set_time_zone(kChicago);
    r.set_third_party_collector(true);
    r.set_jurisdiction(jurisdiction);
    *r.mutable_due_date() = Date(2025, 1, 1);
    r.mutable_contact_points()->mutable_phones(0)->set_number("+13125550100");
    Must(&Stub::OpenCase, r, id);
  }
  v1::RecordContactAttemptRequest CallRequest(
      v1::ContactOutcome outcome = v1::CONTACT_OUTCOME_NO_ANSWER) {
    v1::RecordContactAttemptRequest r;
    r.set_contact_id("C" + std::to_string(++contacts));
    r.set_channel(v1::CONTACT_CHANNEL_CALL);
    r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
    r.set_address("+13125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
    r.set_outcome(outcome);
    r.mutable_content()->set_has_debt_collector_disclosure(true);  // F10, for messages left
    return r;
  }
  grpc::Status Call(const std::string& account,
                    v1::ContactOutcome outcome = v1::CONTACT_OUTCOME_NO_ANSWER) {
    return Send(&Stub::RecordContactAttempt, CallRequest(outcome), account);
  }
  // A call made at `made`, recorded now by `role`.
  grpc::Status CallMadeAt(const std::string& account, absl::Time made,
                          const std::string& role = "collector", const std::string& reason = "",
                          bool took_place = false) {
    auto r = CallRequest();
    *r.mutable_occurred_at() = internal::ToProto(made);
    r.set_late_entry_reason(reason);
    r.set_took_place(took_place);
    return Send(&Stub::RecordContactAttempt, r, account, role);
  }
  v1::ReserveContactRequest ReserveRequest(const std::string& account, const std::string& id) {
    v1::ReserveContactRequest r;
    r.set_command_id("reserve-" + id);
    r.set_account_id(account);
    r.mutable_actor()->set_id("dialer-" + id);
    r.mutable_actor()->set_kind(v1::ACTOR_KIND_SERVICE);
    r.mutable_actor()->set_role("dialer");
    r.set_reservation_id(id);
    r.set_channel(v1::CONTACT_CHANNEL_CALL);
    r.set_address("+13125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
    return r;
  }
  v1::CheckContactResponse Check(const std::string& account) {
    v1::CheckContactRequest r;
    r.set_account_id(account);
    r.set_channel(v1::CONTACT_CHANNEL_CALL);
    r.set_address("+13125550100");
    r.set_phone_type(v1::PHONE_TYPE_CELL);
    grpc::ClientContext ctx;
    v1::CheckContactResponse resp;
    BOOST_REQUIRE(service.commands().CheckContact(&ctx, r, &resp).ok());
    return resp;
  }
  // Fires `n` reservations for `account` at once, one thread each; returns how many were
  // granted, and checks every refusal names `rule`.
  int ReserveConcurrently(const std::string& account, int n, const std::string& rule) {
    std::vector<grpc::Status> statuses(n);
    std::vector<std::thread> dialers;
    for (int i = 0; i < n; ++i) {
      dialers.emplace_back([&, i] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::CommandReply reply;
        statuses[i] = service.commands().ReserveContact(
            &ctx, ReserveRequest(account, account + "-R" + std::to_string(i)), &reply);
      });
    }
    for (auto& t : dialers) t.join();
    int granted = 0;
    for (const auto& s : statuses) {
      if (s.ok()) {
        ++granted;
      } else {
        BOOST_TEST(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION, s.error_message());
        BOOST_TEST(ErrorReason(s) == rule, s.error_message());
      }
    }
    return granted;
  }
  std::vector<v1::AuditEntry> Exceptions(absl::Time from, absl::Time to, bool late_only = false,
                                         bool violations_only = false) {
    auto stub = v1::ComplianceService::NewStub(
        grpc::CreateChannel(service.app().address(), grpc::InsecureChannelCredentials()));
    v1::ListComplianceExceptionsRequest r;
    *r.mutable_from() = internal::ToProto(from);
    *r.mutable_to() = internal::ToProto(to);
    r.set_late_entries_only(late_only);
    r.set_violations_only(violations_only);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub->ListComplianceExceptions(&ctx, r);
    std::vector<v1::AuditEntry> out;
    v1::ComplianceException e;
    while (reader->Read(&e)) {
      BOOST_TEST((e.late_entry() || e.violation()));
      out.push_back(e.entry());
    }
    auto s = reader->Finish();
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    return out;
  }
  std::vector<v1::EventEnvelope> Events(const std::string& account) {
    std::vector<v1::EventEnvelope> out;
    for (auto& e : ReadTopic(service.options().log.topic)) {
      if (e.envelope.account_id() == account) out.push_back(e.envelope);
    }
    return out;
  }
  int contacts = 0;
};

BOOST_AUTO_TEST_CASE(business_time_late_entries_need_a_role_and_a_reason_and_are_reported) {
  Rules t(At(2025, 10, 8, 10));
  t.Open("D1");
  // Inside the limit (24 hours for contacts): anyone may record it.
  BOOST_TEST(t.CallMadeAt("D1", At(2025, 10, 7, 11)).ok());
  BOOST_TEST(!t.Events("D1").back().has_late_entry());
  // Beyond it: refused for a collector, nothing appended.
  const size_t before = t.Events("D1").size();
  grpc::Status collector = t.CallMadeAt("D1", At(2025, 10, 7, 8, 30));
  BOOST_TEST(collector.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(collector) == "LATE_ENTRY_NOT_AUTHORIZED", collector.error_message());
  BOOST_TEST(t.Events("D1").size() == before);
  // A compliance officer must say why.
  grpc::Status no_reason = t.CallMadeAt("D1", At(2025, 10, 7, 8, 30), "compliance_officer");
  BOOST_TEST(no_reason.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(BadRequestField(no_reason) == "late_entry_reason");
  // With a reason it is recorded and marked.
  BOOST_REQUIRE(t.CallMadeAt("D1", At(2025, 10, 7, 8, 30), "compliance_officer",
                             "dialer outage: calls imported from the carrier's log")
                    .ok());
  const v1::EventEnvelope marked = t.Events("D1").back();
  BOOST_TEST(marked.has_late_entry());
  BOOST_TEST(marked.late_entry().family() == "contact");
  BOOST_TEST(marked.late_entry().role() == "compliance_officer");
  BOOST_TEST(marked.late_entry().late_by_seconds() == 25 * 3600 + 30 * 60);

  // The future is refused outright, naming occurred_at.
  for (absl::Duration ahead : {absl::Minutes(5), absl::Hours(24 * 365 * 5)}) {
    grpc::Status future = t.CallMadeAt("D1", t.clock.Now() + ahead, "compliance_officer", "x");
    BOOST_TEST(future.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    BOOST_TEST(BadRequestField(future) == "occurred_at");
  }
  BOOST_TEST(t.CallMadeAt("D1", t.clock.Now() + absl::Minutes(1)).ok());  // within the skew

  // The examiner's report of the day lists the late entry, and only it.
  auto late = t.Exceptions(At(2025, 10, 8, 0), At(2025, 10, 9, 0), /*late_only=*/true);
  BOOST_REQUIRE(late.size() == 1u);
  BOOST_TEST(late[0].event_id() == marked.event_id());
  BOOST_TEST(late[0].account_id() == "D1");
  bool explained = false;
  for (const auto& r : late[0].reasons()) explained = explained || r.find("late entry:") == 0;
  BOOST_TEST(explained);
  BOOST_TEST(t.Exceptions(At(2025, 10, 9, 0), At(2025, 10, 10, 0)).empty());
}

BOOST_AUTO_TEST_CASE(a_back_dated_call_joins_the_window_it_falls_in_and_a_made_call_is_a_violation) {
  Rules t(At(2025, 10, 6, 10));
  t.Open("D1");
  for (int day = 6; day <= 12; ++day) {
    t.clock.Set(At(2025, 10, day, 10));
    BOOST_REQUIRE(t.Call("D1").ok());
  }
  // Oct 12 11:00: a call stamped Oct 11 20:30 (inside the 24 hours) would have been judged
  // by the window ending Oct 11 (six calls); it joins Oct 6-12 too, which holds seven.
  t.clock.Set(At(2025, 10, 12, 11));
  grpc::Status asked = t.CallMadeAt("D1", At(2025, 10, 11, 20, 30));
  BOOST_TEST(asked.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(ErrorReason(asked) == "F1", asked.error_message());
  BOOST_TEST(t.Events("D1").back().has_contact_blocked());
  // The call did take place: reported as such it is recorded, with its violation, and the
  // compliance officers' report lists it.
  t.clock.Set(At(2025, 10, 12, 11, 5));
  grpc::Status made = t.CallMadeAt("D1", At(2025, 10, 11, 20, 30), "collector", "", true);
  BOOST_REQUIRE_MESSAGE(made.ok(), made.error_message());
  BOOST_TEST(t.last.decision().outcome() == "VIOLATION");
  BOOST_TEST(t.last.decision().rule_id() == "F1");
  auto events = t.Events("D1");
  BOOST_REQUIRE(events.size() >= 2u);
  BOOST_TEST(events[events.size() - 2].contact_attempted().contact().violation());
  BOOST_TEST(events.back().compliance_violation_recorded().rule_id() == "F1");
  auto violations = t.Exceptions(At(2025, 10, 12, 0), At(2025, 10, 13, 0), false, true);
  BOOST_REQUIRE(violations.size() == 1u);
  BOOST_TEST(violations[0].event_type() == "collections.v1.ComplianceViolationRecorded");
  BOOST_TEST(t.Account("D1").contacts_size() == 8);

  // The issue's trick: stamp a 22:30 call 20:30 of an earlier day. Beyond 24 hours: refused.
  t.clock.Set(At(2025, 10, 13, 22, 30));
  BOOST_TEST(ErrorReason(t.CallMadeAt("D1", At(2025, 10, 12, 20, 30))) ==
             "LATE_ENTRY_NOT_AUTHORIZED");
}

BOOST_AUTO_TEST_CASE(consent_recorded_exempts_calls_and_consent_claimed_does_not) {
  Rules t(At(2025, 10, 6, 9));
  t.Open("CLAIMED");
  t.Open("RECORDED");
  v1::UpdateFlagRequest consent;
  consent.set_reason("consumer asked to be called daily this week");
  consent.mutable_consent()->set_consent_id("K1");
  consent.mutable_consent()->set_kind(v1::CONSENT_KIND_CALLS);
  consent.mutable_consent()->set_given_directly_to_collector(true);
  consent.mutable_consent()->set_given_by("consumer");
  consent.mutable_consent()->set_channel(v1::CONTACT_CHANNEL_CALL);
  t.Must(&Stub::UpdateFlag, consent, "RECORDED");
  BOOST_TEST(t.Account("RECORDED").flags().consents(0).given_to() == "collector-1");

  for (int day = 6; day <= 12; ++day) {
    t.clock.Set(At(2025, 10, day, 10));
    auto claimed = t.CallRequest();
    claimed.set_under_consent(true);  // believed by nobody
    BOOST_REQUIRE(t.Send(&Stub::RecordContactAttempt, claimed, "CLAIMED").ok());
    BOOST_TEST(t.last.decision().flags_size() == 1);
    BOOST_TEST(t.last.decision().flags(0) == "CONSENT:NOT_ON_FILE");
    BOOST_REQUIRE(t.Call("RECORDED").ok());  // no flag needed: the record covers it
    BOOST_TEST(t.last.decision().flags_size() == 0);
  }
  t.clock.Set(At(2025, 10, 12, 16));
  auto eighth = t.CallRequest();
  eighth.set_under_consent(true);
  BOOST_TEST(ErrorReason(t.Send(&Stub::RecordContactAttempt, eighth, "CLAIMED")) == "F1");
  BOOST_TEST(t.Call("RECORDED").ok());
  // Day 8 of the consent: it no longer covers a call, and the calls it covered never count.
  t.clock.Set(At(2025, 10, 13, 10));
  BOOST_REQUIRE(t.Call("RECORDED").ok());
  BOOST_TEST(t.last.decision().counters().at("calls_in_window") == 0);
}

BOOST_AUTO_TEST_CASE(twenty_dialers_at_once_get_exactly_what_the_caps_allow) {
  Rules t(At(2025, 10, 6, 10));
  t.Open("D-IL");
  t.Open("D-MA", "MA");
  BOOST_TEST(t.ReserveConcurrently("D-IL", 20, "F1") == 7);
  BOOST_TEST(t.ReserveConcurrently("D-MA", 20, "S-MA") == 2);
  // CheckContact counts live reservations.
  auto check = t.Check("D-IL");
  BOOST_TEST(!check.allowed());
  BOOST_TEST(check.decision().counters().at("calls_in_window") == 7);
  BOOST_TEST(t.Account("D-IL").reservations_size() == 7);
  // A dialer completes its reservation: the call takes its place, counted once.
  std::string granted = t.Account("D-IL").reservations(0).reservation_id();
  auto call = t.CallRequest(v1::CONTACT_OUTCOME_NO_ANSWER_MESSAGE_POSSIBLE);
  call.set_reservation_id(granted);
  BOOST_REQUIRE(t.Send(&Stub::RecordContactAttempt, call, "D-IL").ok());
  BOOST_TEST(t.last.decision().outcome() == "ALLOW");
  BOOST_TEST(t.Account("D-IL").reservations_size() == 6);
  BOOST_TEST(t.Check("D-IL").decision().counters().at("calls_in_window") == 7);
}

BOOST_AUTO_TEST_CASE(an_unused_reservation_expires_and_stops_counting) {
  Rules t(At(2025, 10, 6, 10));
  t.Open("D1");
  BOOST_REQUIRE(t.Send(&Stub::ReserveContact, t.ReserveRequest("D1", "R1"), "D1", "dialer").ok());
  BOOST_TEST(t.Check("D1").decision().counters().at("calls_in_window") == 1);
  t.AdvanceTo(At(2025, 10, 6, 10, 9));
  BOOST_TEST(t.Account("D1").reservations_size() == 1);
  t.AdvanceTo(At(2025, 10, 6, 10, 11));  // the policy's 10 minutes have passed
  auto events = t.Events("D1");
  BOOST_REQUIRE(events.back().has_contact_reservation_expired());
  BOOST_TEST(events.back().contact_reservation_expired().reservation_id() == "R1");
  BOOST_TEST(events.back().actor().id() == "collections-writer");
  BOOST_TEST(t.Account("D1").reservations_size() == 0);
  BOOST_TEST(t.Check("D1").decision().counters().at("calls_in_window") == 0);
  // Too late to complete it: the dialer records the call as one that took place instead.
  auto call = t.CallRequest();
  call.set_reservation_id("R1");
  grpc::Status expired = t.Send(&Stub::RecordContactAttempt, call, "D1");
  BOOST_TEST(expired.error_code() == grpc::StatusCode::NOT_FOUND);
  BOOST_TEST(ErrorReason(expired) == "RESERVATION_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(massachusetts_counts_unanswered_calls_where_a_message_could_be_left) {
  Rules t(At(2025, 10, 6, 10));
  t.Open("MA-1", "MA");
  t.Open("MA-2", "MA");
  t.Open("MA-3", "MA");
  BOOST_REQUIRE(t.Call("MA-1", v1::CONTACT_OUTCOME_NO_ANSWER_MESSAGE_POSSIBLE).ok());
  BOOST_REQUIRE(t.Call("MA-2", v1::CONTACT_OUTCOME_ANSWERING_MACHINE_NO_MESSAGE).ok());
  BOOST_REQUIRE(t.Call("MA-3", v1::CONTACT_OUTCOME_NO_ANSWER).ok());
  t.clock.Set(At(2025, 10, 7, 10));
  BOOST_REQUIRE(t.Call("MA-1", v1::CONTACT_OUTCOME_MESSAGE_LEFT).ok());
  BOOST_REQUIRE(t.Call("MA-2", v1::CONTACT_OUTCOME_ANSWERING_MACHINE_NO_MESSAGE).ok());
  BOOST_REQUIRE(t.Call("MA-3", v1::CONTACT_OUTCOME_NO_ANSWER).ok());
  t.clock.Set(At(2025, 10, 8, 10));
  BOOST_TEST(ErrorReason(t.Call("MA-1")) == "S-MA");
  BOOST_TEST(ErrorReason(t.Call("MA-2")) == "S-MA");
  BOOST_TEST(t.Call("MA-3").ok());  // rang out with no way to leave a message: not counted
}

}  // namespace
}  // namespace collections::testing
