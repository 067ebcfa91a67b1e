// The account projection applies events as deltas (the head of the account plus the entries its
// lists gained) yet GetAccount answers exactly the account the domain's Evolve builds from the
// whole history, whatever the batches were; and the store's bytes do not depend on how the
// history was cut into batches (a rebuild equals the live projection).
#define BOOST_TEST_MODULE account_projection
#include "projections/projector/projector.h"
#include "services/authz/integrity.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/hashing.h"

#include "absl/strings/str_cat.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <random>

namespace collections {
namespace {

struct TempPath {
  TempPath() {
    std::random_device random;
    path = (std::filesystem::temp_directory_path() /
            ("account-projection-" + std::to_string(random()) + std::to_string(random())))
               .string();
  }
  ~TempPath() { std::filesystem::remove_all(path); }
  std::string path;
};

google::protobuf::Timestamp Ts(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

// A history of `events` events of `account` touching every list the store keeps apart
// (payments, contacts, correspondence, past plans, bureau reports) and reversing payments made
// long before, chained as the writer chains them.
std::vector<v1::EventEnvelope> History(const std::string& account, int events) {
  std::vector<v1::EventEnvelope> out;
  std::string prev;
  for (int i = 1; i <= events; ++i) {
    v1::EventEnvelope e;
    e.set_event_id(absl::StrCat(account, "-e", i));
    e.set_account_id(account);
    e.set_sequence(i);
    *e.mutable_occurred_at() = Ts(1735689600 + i * 3600);
    *e.mutable_recorded_at() = Ts(1735689600 + i * 3600);
    e.mutable_actor()->set_id("test");
    if (i == 1) {
      auto* open = e.mutable_case_opened();
      open->set_creditor("Acme");
      open->set_currency("USD");
      open->mutable_balances()->set_principal_minor(10000000);
      open->set_time_zone("America/Chicago");
      open->set_assignee("collector-1");
      open->set_queue("early");
    } else if (i % 6 == 0) {
      auto* pay = e.mutable_payment_posted();
      pay->set_payment_id(absl::StrCat("p", i));
      pay->mutable_amount()->set_amount_minor(1000 + i);
      pay->mutable_applied()->set_principal_minor(1000 + i);
    } else if (i % 13 == 0) {
      // Reverses the payment made six events before: usually in an earlier batch.
      auto* reversal = e.mutable_payment_reversed();
      reversal->set_payment_id(absl::StrCat("p", (i / 6) * 6));
      reversal->mutable_reopened()->set_principal_minor(1000 + (i / 6) * 6);
    } else if (i % 7 == 0) {
      auto* letter = e.mutable_correspondence_sent()->mutable_correspondence();
      letter->set_correspondence_id(absl::StrCat("l", i));
      letter->set_kind(v1::CORRESPONDENCE_KIND_PAYMENT_REMINDER);
    } else if (i % 11 == 0) {
      auto* plan = e.mutable_plan_proposed()->mutable_plan();
      plan->set_plan_id(absl::StrCat("plan", i));
      plan->set_status(v1::PLAN_STATUS_PROPOSED);
    } else if (i % 17 == 0) {
      auto* report = e.mutable_reported_to_bureau()->mutable_report();
      report->set_report_id(absl::StrCat("b", i));
      report->set_bureau("EQUIFAX");
    } else if (i % 19 == 0) {
      e.mutable_case_assigned()->set_assignee(absl::StrCat("collector-", i % 3));
      e.mutable_case_assigned()->set_queue("late");
    } else {
      auto* contact = e.mutable_contact_attempted()->mutable_contact();
      contact->set_contact_id(absl::StrCat("k", i));
      contact->set_channel(v1::CONTACT_CHANNEL_CALL);
      contact->set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
    }
    e.set_prev_hash(prev);
    e.set_hash(ChainHash(e));
    prev = e.hash();
    out.push_back(std::move(e));
  }
  return out;
}

// Records as the topic would hold them: two accounts interleaved on partition 0.
struct Log {
  std::vector<std::string> keys, values;
  std::vector<v1::EventEnvelope> envelopes;
};

Log Interleave(const std::vector<std::vector<v1::EventEnvelope>>& histories) {
  Log log;
  size_t longest = 0;
  for (const auto& h : histories) longest = std::max(longest, h.size());
  for (size_t i = 0; i < longest; ++i) {
    for (const auto& h : histories) {
      if (i >= h.size()) continue;
      log.keys.push_back(h[i].account_id());
      log.values.push_back(h[i].SerializeAsString());
      log.envelopes.push_back(h[i]);
    }
  }
  return log;
}

// Applies the log to a new store at `path` in batches of the sizes `cut` yields.
void Project(const Log& log, const std::string& path, const std::function<size_t()>& cut) {
  auto store = ProjectionStore::Open(path);
  BOOST_REQUIRE(store.ok());
  AccountProjection projection(*store.value());
  size_t at = 0;
  while (at < log.values.size()) {
    const size_t end = std::min(log.values.size(), at + std::max<size_t>(1, cut()));
    std::vector<ProjectedEvent> batch;
    for (size_t i = at; i < end; ++i) {
      ProjectedEvent e{0, static_cast<int64_t>(i), &log.values[i], &log.envelopes[i],
                       &log.keys[i], true};
      batch.push_back(std::move(e));
    }
    BOOST_REQUIRE(!projection.ApplyBatch(batch, {{0, static_cast<int64_t>(end)}}).has_value());
    at = end;
  }
}

// What the account was before the store kept its lists apart: the whole account, folded.
v1::Account Expected(const Log& log, const std::string& account) {
  authz::IntegrityGate gate({});
  v1::Account a;
  for (size_t i = 0; i < log.envelopes.size(); ++i) {
    if (log.envelopes[i].account_id() != account) continue;
    const auto outcome = gate.Admit(a, log.envelopes[i], 0, static_cast<int64_t>(i));
    for (const v1::EventEnvelope* released : outcome.apply) {
      Evolve(a, *released);
      a.mutable_last_position()->set_partition(0);
      a.mutable_last_position()->set_offset(static_cast<int64_t>(i));
    }
  }
  return a;
}

BOOST_AUTO_TEST_CASE(get_account_is_the_whole_history_folded_whatever_the_batches) {
  const Log log = Interleave({History("ACC-1", 240), History("ACC-2", 75)});
  const v1::Account expected = Expected(log, "ACC-1");
  BOOST_REQUIRE(expected.contacts_size() > 100);  // the history is long and every list grows
  BOOST_REQUIRE(expected.payments_size() > 10);
  BOOST_REQUIRE(expected.correspondence_size() > 5 && expected.past_plans_size() > 5 &&
                expected.bureau_reports_size() > 5);
  BOOST_REQUIRE(std::count_if(expected.payments().begin(), expected.payments().end(),
                              [](const v1::PaymentRecord& p) { return p.reversed(); }) > 5);

  TempPath one_by_one, whole, random_cuts;
  Project(log, one_by_one.path, [] { return 1; });
  Project(log, whole.path, [] { return 100000; });
  std::mt19937 random(7);
  Project(log, random_cuts.path,
          [&random] { return std::uniform_int_distribution<size_t>(1, 40)(random); });

  std::string digest;
  for (const auto* path : {&one_by_one.path, &whole.path, &random_cuts.path}) {
    auto store = ProjectionStore::Open(*path);
    BOOST_REQUIRE(store.ok());
    for (const char* id : {"ACC-1", "ACC-2"}) {
      auto account = store.value()->GetAccount(id);
      BOOST_REQUIRE(account.ok());
      BOOST_REQUIRE(account.value().has_value());
      BOOST_TEST(CanonicalBytes(*account.value()) == CanonicalBytes(Expected(log, id)));
    }
    // The head the projector reads holds no list entry, whatever the history's length.
    auto head = store.value()->GetAccountHead("ACC-1");
    BOOST_REQUIRE(head.ok() && head.value().has_value());
    BOOST_TEST(head.value()->head.contacts_size() == 0);
    BOOST_TEST(head.value()->head.payments_size() == 0);
    BOOST_TEST(head.value()->items[1] == static_cast<uint32_t>(expected.contacts_size()));
    auto d = store.value()->Digest();
    BOOST_REQUIRE(d.ok());
    if (digest.empty()) digest = d.value();
    BOOST_TEST(d.value() == digest);  // the same bytes, batch by batch or all at once
  }
}

}  // namespace
}  // namespace collections
