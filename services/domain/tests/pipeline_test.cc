#define BOOST_TEST_MODULE pipeline
#include "services/domain/pipeline.h"

#include "services/compliance/policy.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/hashing.h"

#include "absl/time/civil_time.h"

#include "services/domain/tests/chicago_account.h"
#include "services/domain/tests/outcome_kind.h"

#include <boost/test/unit_test.hpp>

// The writer's command pipeline as tables: given events (earlier commands through the same
// pipeline), when a command at an instant of the service clock, then the events it appends
// (stamped and chained) or its refusal. No broker.

namespace collections {
namespace {

using testing::Local;
using testing::OpenRequest;
using testing::Policy;
using testing::With;

v1::RecordContactAttemptRequest Call(const std::string& command_id, const std::string& contact_id) {
  v1::RecordContactAttemptRequest r;
  r.set_contact_id(contact_id);
  r.set_channel(v1::CONTACT_CHANNEL_CALL);
  r.set_direction(v1::CONTACT_DIRECTION_OUTBOUND);
  r.set_address("+13125550100");
  r.set_phone_type(v1::PHONE_TYPE_CELL);
  r.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
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

// The log as the pipeline leaves it: the state, what each command id came to, the events.
struct Log {
  AccountState state;
  std::map<std::string, PriorCommand> commands;
  std::vector<v1::EventEnvelope> events;
  DomainSettings domain;
  int ids = 0;
  std::vector<std::vector<std::string>> signed_runs;

  PipelineSettings Settings() {
    PipelineSettings s;
    s.domain = &domain;
    s.policy = &Policy();
    s.new_event_id = [this] { return "ev-" + std::to_string(++ids); };
    s.sign = [this](const std::vector<std::string>& hashes, v1::EventEnvelope* last) {
      signed_runs.push_back(hashes);
      last->mutable_signature()->set_key_id("test-key");
    };
    return s;
  }
  CommandOutcome When(const Command& command, absl::Time now, bool dry_run = false) {
    PipelineSettings settings = Settings();
    CommandInput input;
    input.command = &command;
    input.now = now;
    input.dry_run = dry_run;
    auto prior = commands.find(CommandId(command));
    input.prior = prior == commands.end() ? nullptr : &prior->second;
    CommandOutcome out = RunCommand(state, state.version() > 0, input, settings);
    for (const auto& e : out.time_events) events.push_back(e);
    if (out.kind == CommandOutcome::Kind::kAppend) {
      for (const auto& e : out.events) events.push_back(e);
      PriorCommand& record = commands[CommandId(command)];
      record.fingerprint = out.events.front().command_fingerprint();
      record.refused = out.error.has_value();
      record.blocked = out.events.back().has_contact_blocked();
    }
    return out;
  }
};

std::vector<std::string> Types(const std::vector<v1::EventEnvelope>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(EventType(e).substr(std::string("collections.v1.").size()));
  return out;
}

BOOST_AUTO_TEST_CASE(events_are_stamped_chained_and_signed_as_one_run) {
  Log log;
  const absl::Time now = Local(2025, 10, 6, 10);
  auto opened = log.When(OpenRequest(), now);
  BOOST_TEST(Kind(opened) == "append");
  auto paid = log.When(Pay("pay-1", 1000), now);
  BOOST_REQUIRE(Kind(paid) == "append");
  std::string prev;
  int64_t sequence = 0;
  for (const auto& e : log.events) {
    BOOST_TEST(e.sequence() == ++sequence);
    BOOST_TEST(e.prev_hash() == prev);
    BOOST_TEST(e.hash() == ChainHash(e));
    BOOST_TEST(e.policy_version() == Policy().version());
    BOOST_TEST(e.command_event_index() < e.command_event_count());
    prev = e.hash();
  }
  BOOST_TEST(paid.events.front().command_id() == "pay-1");
  BOOST_TEST(!paid.events.front().command_fingerprint().empty());
  // One signature per command, over all of that command's hashes, on its last event.
  BOOST_TEST(log.signed_runs.size() == 2u);
  BOOST_TEST(log.signed_runs.back().size() == paid.events.size());
  BOOST_TEST(paid.events.back().signature().key_id() == "test-key");
  // The state moved in place: the caller keeps no copy.
  BOOST_TEST(log.state.version() == sequence);
  BOOST_TEST(log.state.last_hash() == prev);
  BOOST_TEST(log.state.total_balance_minor() == 99000);
}

struct Case {
  const char* why;
  std::function<Command()> command;
  const char* expected;  // Kind()
  std::vector<std::string> types;
};

BOOST_AUTO_TEST_CASE(command_ids_versions_and_limits) {
  const absl::Time now = Local(2025, 10, 6, 10);
  const std::vector<Case> cases = {
      {"the same request again", [] { return Command(Pay("pay-1", 1000)); }, "repeat", {}},
      {"another request with the id", [] { return Command(Pay("pay-1", 2000)); },
       "refused COMMAND_ID_REUSED", {}},
      {"the same id on another account is another command",
       [] {
         auto r = Pay("pay-1", 1000);
         r.set_account_id("ACC-2");
         return Command(r);
       },
       "refused ACCOUNT_NOT_FOUND", {}},
      {"expected version behind",
       [] {
         auto r = Pay("pay-2", 1000);
         r.set_expected_version(1);
         return Command(r);
       },
       "refused VERSION_MISMATCH", {}},
      {"expected version current",
       [] {
         auto r = Pay("pay-3", 1000);
         r.set_expected_version(2);
         return Command(r);
       },
       "append", {"PaymentPosted"}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.why) {
      Log log;
      log.When(OpenRequest(), now);
      log.When(Pay("pay-1", 1000), now);
      const int64_t before = log.state.version();
      Command command = c.command();
      if (AccountId(command) != "ACC-1") {
        // Another account: a state of its own (none yet).
        Log other;
        auto out = other.When(command, now);
        BOOST_TEST(Kind(out) == c.expected);
        continue;
      }
      auto out = log.When(command, now);
      BOOST_TEST(Kind(out) == c.expected);
      BOOST_TEST(Types(out.events) == c.types);
      if (out.kind != CommandOutcome::Kind::kAppend)
        BOOST_TEST(log.state.version() == before, "a refusal leaves the state as it was");
    }
  }
}

BOOST_AUTO_TEST_CASE(an_event_over_the_size_limit_stages_nothing) {
  Log log;
  const absl::Time now = Local(2025, 10, 6, 10);
  log.When(OpenRequest(), now);
  const AccountState before = log.state;
  PipelineSettings settings = log.Settings();
  settings.record_bytes = [](const v1::EventEnvelope& e) {
    return static_cast<int64_t>(e.ByteSizeLong());
  };
  settings.max_event_bytes = 64;
  Command pay = Pay("pay-big", 1000);
  CommandInput input;
  input.command = &pay;
  input.now = now;
  auto out = RunCommand(log.state, true, input, settings);
  BOOST_TEST(Kind(out) == "refused EVENT_TOO_LARGE");
  BOOST_TEST(log.state.SerializeAsString() == before.SerializeAsString());
}

BOOST_AUTO_TEST_CASE(a_blocked_command_id_is_judged_anew_when_repeated) {
  Log log;
  log.When(OpenRequest(), Local(2025, 10, 6, 9));
  for (int day = 6; day <= 12; ++day) {
    auto out = log.When(Call("call-" + std::to_string(day), "C" + std::to_string(day)),
                        Local(2025, 10, day, 10));
    BOOST_REQUIRE(Kind(out) == "append");
  }
  // The eighth call in seven days: blocked, and the block recorded once.
  auto blocked = log.When(Call("call-8th", "CX"), Local(2025, 10, 12, 16));
  BOOST_TEST(Kind(blocked) == "append+refused F1");
  BOOST_TEST(Types(blocked.events) == std::vector<std::string>{"ContactBlocked"});
  // Retried the same day: still blocked, but not recorded again.
  auto again = log.When(Call("call-8th", "CX"), Local(2025, 10, 12, 17));
  BOOST_TEST(Kind(again) == "refused F1");
  BOOST_TEST(again.events.empty());
  // Retried once the window opened: judged anew, and it goes through under the same id.
  auto later = log.When(Call("call-8th", "CX"), Local(2025, 10, 13, 9));
  BOOST_TEST(Kind(later) == "append");
  BOOST_TEST(Types(later.events) == std::vector<std::string>{"ContactAttempted"});
  BOOST_TEST(later.events.front().command_id() == "call-8th");
  // And from then on it is an ordinary repeat.
  BOOST_TEST(Kind(log.When(Call("call-8th", "CX"), Local(2025, 10, 13, 10))) == "repeat");
  // A refusal other than a block is never re-judged: another request under the id is refused.
  BOOST_TEST(Kind(log.When(Call("call-8th", "CY"), Local(2025, 10, 14, 10))) ==
             "refused COMMAND_ID_REUSED");
}

BOOST_AUTO_TEST_CASE(time_driven_events_come_first_and_a_dry_run_records_nothing_else) {
  Log log;
  log.When(OpenRequest(), Local(2025, 10, 6, 9));
  v1::RecordPromiseToPayRequest promise;
  promise.set_promise_id("PR1");
  promise.mutable_amount()->set_amount_minor(1000);
  promise.mutable_amount()->set_currency("USD");
  promise.mutable_due_date()->set_year(2025);
  promise.mutable_due_date()->set_month(10);
  promise.mutable_due_date()->set_day(10);
  BOOST_REQUIRE(Kind(log.When(With("promise", promise), Local(2025, 10, 6, 10))) == "append");
  const int64_t before = log.state.version();
  // Weeks later, a pre-flight check: the broken promise (and aging) fall due first.
  Command check = Call("check", "C1");
  auto dry = log.When(check, Local(2025, 11, 20, 10), /*dry_run=*/true);
  BOOST_TEST(Kind(dry) == "dry-run");
  BOOST_REQUIRE(!dry.time_events.empty());
  bool broken = false;
  for (const auto& e : dry.time_events) {
    broken = broken || e.has_promise_broken();
    BOOST_TEST(e.command_id() == "clock:" + std::to_string(before + 1));
  }
  BOOST_TEST(broken);
  BOOST_TEST(dry.version == before + static_cast<int64_t>(dry.time_events.size()));
  BOOST_TEST(log.state.version() == dry.version, "only the time-driven events were applied");
}

// A customer's stream through the same pipeline: numbered, chained and signed like an
// account's; a repeated command id is the earlier outcome; a stale expected_version is
// refused; a refused credit-memo approval is appended as AccessDenied on the customer.
template <typename Request>
Request AsCollector(const std::string& command_id, Request r) {
  r.set_command_id(command_id);
  r.set_customer_id("C-1");
  r.mutable_actor()->set_id("collector-1");
  r.mutable_actor()->set_role("collector");
  return r;
}

v1::LocalDate Day(int y, int m, int d) {
  v1::LocalDate out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

BOOST_AUTO_TEST_CASE(a_customer_stream_is_stamped_chained_signed_and_deduplicated) {
  DomainSettings domain;
  int ids = 0;
  int signed_runs = 0;
  PipelineSettings settings;
  settings.domain = &domain;
  settings.policy = &Policy();
  settings.new_event_id = [&ids] { return "ev-" + std::to_string(++ids); };
  settings.sign = [&signed_runs](const std::vector<std::string>&, v1::EventEnvelope* last) {
    ++signed_runs;
    last->mutable_signature()->set_key_id("test-key");
  };
  const absl::Time now = Local(2025, 10, 1, 10);
  CustomerState state;
  std::vector<v1::EventEnvelope> log;
  auto run = [&](const CustomerCommand& command, const PriorCommand* prior = nullptr) {
    CustomerCommandInput input;
    input.command = &command;
    input.now = now;
    input.prior = prior;
    CommandOutcome out = RunCustomerCommand(state, state.version() > 0, input, settings);
    for (const auto& e : out.events) log.push_back(e);
    return out;
  };

  v1::OpenCustomerRequest open = AsCollector("c-open", v1::OpenCustomerRequest());
  open.set_kind(v1::CUSTOMER_KIND_COMPANY);
  open.set_name("Northwind");
  open.set_currency("USD");
  open.set_time_zone("America/Chicago");
  BOOST_TEST(Kind(run(open)) == "append");
  v1::LinkCustomerAccountRequest link = AsCollector("c-link", v1::LinkCustomerAccountRequest());
  link.set_linked_account_id("ACC-1");
  BOOST_TEST(Kind(run(link)) == "append");
  v1::RecordInvoiceRequest invoice = AsCollector("c-inv", v1::RecordInvoiceRequest());
  invoice.mutable_invoice()->set_invoice_id("INV-1");
  invoice.mutable_invoice()->set_number("1001");
  invoice.mutable_invoice()->set_account_id("ACC-1");
  *invoice.mutable_invoice()->mutable_invoice_date() = Day(2025, 8, 1);
  *invoice.mutable_invoice()->mutable_due_date() = Day(2025, 9, 1);
  invoice.mutable_invoice()->mutable_amount()->set_amount_minor(50000);
  invoice.mutable_invoice()->mutable_amount()->set_currency("USD");
  BOOST_TEST(Kind(run(invoice)) == "append");

  BOOST_REQUIRE(log.size() == 3u);
  std::string prev;
  for (size_t i = 0; i < log.size(); ++i) {
    BOOST_TEST(log[i].account_id() == "customer/C-1");
    BOOST_TEST(log[i].customer_id() == "C-1");
    BOOST_TEST(log[i].sequence() == static_cast<int64_t>(i + 1));
    BOOST_TEST(log[i].prev_hash() == prev);
    BOOST_TEST(log[i].hash() == ChainHash(log[i]));
    BOOST_TEST(log[i].has_signature());
    BOOST_TEST(log[i].policy_version() == Policy().version());
    prev = log[i].hash();
  }
  BOOST_TEST(signed_runs == 3);
  BOOST_TEST(state.version() == 3);

  // The same command id: the same request is a repeat, another request is refused.
  PriorCommand prior;
  prior.fingerprint = log[2].command_fingerprint();
  BOOST_TEST(Kind(run(invoice, &prior)) == "repeat");
  v1::RecordInvoiceRequest other = invoice;
  other.mutable_invoice()->set_invoice_id("INV-2");
  BOOST_TEST(Kind(run(other, &prior)) == "refused COMMAND_ID_REUSED");

  v1::AdjustInvoiceRequest memo = AsCollector("c-memo", v1::AdjustInvoiceRequest());
  memo.set_adjustment_id("CM-1");
  memo.set_invoice_id("INV-1");
  memo.set_kind(v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO);
  memo.set_amount_minor(20000);
  memo.set_reason("damaged");
  memo.set_expected_version(2);
  BOOST_TEST(Kind(run(memo)) == "refused VERSION_MISMATCH");
  memo.set_expected_version(3);
  // Above the threshold from a collector: refused, and the attempt is on the customer's trail.
  BOOST_TEST(Kind(run(memo)) == "append+refused SUPERVISOR_APPROVAL_REQUIRED");
  BOOST_TEST(log.back().access_denied().command() == "AdjustInvoice");
  BOOST_TEST(log.back().account_id() == "customer/C-1");
  BOOST_TEST(log.back().sequence() == 4);
  BOOST_TEST(state.pending_approvals_size() == 1);
}

}  // namespace
}  // namespace collections
