// The work queue ranks accounts from their list rows (ProjectionStore's "list" column family)
// instead of whole accounts: for every reason Prioritize knows, and every state that makes an
// account not actionable, the row ranks exactly as the account it was cut from.
#define BOOST_TEST_MODULE priority_row
#include "projections/query/priority.h"
#include "projections/store/store.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

#include <boost/test/unit_test.hpp>
#include <functional>
#include <string>
#include <vector>

namespace collections {
namespace {

google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 11, 3, 15, 0, 0), absl::UTCTimeZone());

// An open Chicago account 20 days past due with a long history: contacts, promises (the last
// one `last_promise`), payments, a plan with instalments, disputes, consents.
v1::Account Base() {
  v1::Account a;
  a.set_account_id("ACC-P");
  a.set_status(v1::ACCOUNT_STATUS_OPEN);
  a.mutable_balances()->set_principal_minor(50000);
  a.set_total_balance_minor(50000);
  a.set_currency("USD");
  a.set_time_zone("America/Chicago");
  a.mutable_due_date()->set_year(2025);
  a.mutable_due_date()->set_month(10);
  a.mutable_due_date()->set_day(14);
  a.set_aging_bucket(v1::AGING_BUCKET_1_29);
  for (int i = 0; i < 5; ++i) {
    auto* c = a.add_contacts();
    c->set_contact_id("C" + std::to_string(i));
    c->set_channel(v1::CONTACT_CHANNEL_CALL);
  }
  for (int i = 0; i < 3; ++i) {
    auto* p = a.add_promises();
    p->set_promise_id("PR" + std::to_string(i));
    p->set_status(v1::PROMISE_STATUS_KEPT);
    p->mutable_due_date()->set_year(2025);
    p->mutable_due_date()->set_month(9);
    p->mutable_due_date()->set_day(1 + i);
    *p->mutable_resolved_at() = At(kNow - absl::Hours(24 * (40 - i)));
  }
  auto* d = a.add_disputes();
  d->set_dispute_id("D0");
  d->set_status(v1::DISPUTE_STATUS_UPHELD);
  a.mutable_flags()->add_consents();
  *a.mutable_last_payment()->mutable_posted_at() = At(kNow - absl::Hours(24 * 30));
  a.mutable_plan()->set_plan_id("PL1");
  a.mutable_plan()->set_status(v1::PLAN_STATUS_COMPLETED);
  a.mutable_plan()->add_instalments();
  a.mutable_plan()->add_instalments();
  return a;
}

std::string Describe(const Priority& p) {
  std::string out = std::to_string(p.actionable) + "/" + std::to_string(p.score) + "/";
  for (const auto& r : p.reasons) out += r.SerializeAsString() + ";";
  if (p.contact_allowed_from) out += absl::FormatTime(*p.contact_allowed_from);
  return out;
}

BOOST_AUTO_TEST_CASE(a_list_row_ranks_as_its_account) {
  std::vector<std::pair<std::string, std::function<void(v1::Account&)>>> cases = {
      {"days past due only", [](v1::Account&) {}},
      {"new delinquency", [](v1::Account& a) { a.clear_contacts(); }},
      {"broken promise",
       [](v1::Account& a) {
         auto* p = a.mutable_promises(2);
         p->set_status(v1::PROMISE_STATUS_BROKEN);
         *p->mutable_resolved_at() = At(kNow - absl::Hours(24));
       }},
      {"broken promise paid since",
       [](v1::Account& a) {
         auto* p = a.mutable_promises(2);
         p->set_status(v1::PROMISE_STATUS_BROKEN);
         *p->mutable_resolved_at() = At(kNow - absl::Hours(48));
         *a.mutable_last_payment()->mutable_posted_at() = At(kNow - absl::Hours(24));
       }},
      {"promise due",
       [](v1::Account& a) {
         auto* p = a.mutable_promises(2);
         p->set_status(v1::PROMISE_STATUS_PENDING);
         p->mutable_due_date()->set_month(11);
         p->mutable_due_date()->set_day(3);
       }},
      {"promise not yet due",
       [](v1::Account& a) {
         auto* p = a.mutable_promises(2);
         p->set_status(v1::PROMISE_STATUS_PENDING);
         p->mutable_due_date()->set_month(11);
         p->mutable_due_date()->set_day(4);
       }},
      {"plan defaulted",
       [](v1::Account& a) { a.mutable_plan()->set_status(v1::PLAN_STATUS_DEFAULTED); }},
      {"plan with a missed instalment",
       [](v1::Account& a) {
         a.mutable_plan()->set_status(v1::PLAN_STATUS_ACTIVE);
         a.mutable_plan()->set_missed_count(2);
       }},
      {"callback due", [](v1::Account& a) { *a.mutable_callback_at() = At(kNow - absl::Hours(1)); }},
      {"callback later", [](v1::Account& a) { *a.mutable_callback_at() = At(kNow + absl::Hours(1)); }},
      {"contact blocked",
       [](v1::Account& a) { *a.mutable_contact_blocked_until() = At(kNow + absl::Hours(5)); }},
      {"contact block over",
       [](v1::Account& a) { *a.mutable_contact_blocked_until() = At(kNow - absl::Hours(5)); }},
      {"open dispute",
       [](v1::Account& a) {
         auto* d = a.add_disputes();
         d->set_dispute_id("D1");
         d->set_status(v1::DISPUTE_STATUS_OPEN);
       }},
      {"bankrupt",
       [](v1::Account& a) { a.mutable_flags()->set_bankruptcy(v1::BANKRUPTCY_STATUS_PENDING); }},
      {"deceased", [](v1::Account& a) { a.mutable_flags()->set_deceased(true); }},
      {"cease", [](v1::Account& a) { a.mutable_flags()->set_cease_communication(true); }},
      {"paid", [](v1::Account& a) { a.set_status(v1::ACCOUNT_STATUS_PAID_IN_FULL); }},
      {"not due yet",
       [](v1::Account& a) {
         a.mutable_due_date()->set_year(2026);
         a.clear_contacts();
       }},
      {"long past due",
       [](v1::Account& a) {
         a.mutable_due_date()->set_year(2024);
         a.clear_promises();
       }},
  };
  int actionable = 0;
  for (auto& [name, change] : cases) {
    v1::Account a = Base();
    change(a);
    const v1::Account row = ListRow(a);
    BOOST_TEST(row.ByteSizeLong() < a.ByteSizeLong(), name);
    BOOST_TEST(row.plan().instalments().empty(), name);
    const Priority from_account = Prioritize(a, kNow), from_row = Prioritize(row, kNow);
    BOOST_TEST(Describe(from_row) == Describe(from_account), name);
    if (from_account.actionable) ++actionable;
  }
  BOOST_TEST(actionable >= 10);  // the cases do exercise the reasons, not only the exclusions
}

}  // namespace
}  // namespace collections
