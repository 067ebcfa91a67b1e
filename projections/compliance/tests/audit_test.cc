// The audit core without a broker: a chain the writer would produce is intact, and every kind
// of tampering an examiner cares about (edit, removal, reordering, garbage) is named by account
// and sequence; replay gives the states Evolve gives, cut by business and system time.
#define BOOST_TEST_MODULE compliance_audit
#include "projections/compliance/audit.h"

#include "services/domain/case_aggregate.h"
#include "services/domain/hashing.h"

#include "absl/time/time.h"

#include <boost/test/unit_test.hpp>

namespace collections::compliance {
namespace {

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

const absl::Time kDay1 = absl::FromUnixSeconds(1761000000);  // 2025-10-20T22:40:00Z

// An account's history as the writer appends it: sequence 1..n, chained hashes, on one
// partition at consecutive offsets (offset = base + index), business time one day apart and
// recorded an hour after it happened.
struct History {
  std::string account_id;
  int32_t partition = 1;
  int64_t base_offset = 10;
  std::vector<v1::EventEnvelope> events;

  explicit History(std::string id) : account_id(std::move(id)) {
    v1::EventEnvelope open;
    auto* o = open.mutable_case_opened();
    o->set_creditor("Acme Bank");
    o->set_debtor_name("Jane Doe");
    o->set_currency("USD");
    o->mutable_balances()->set_principal_minor(100000);
    o->mutable_balances()->set_fees_minor(2500);
    Add(open, "opener");

    v1::EventEnvelope pay;
    auto* p = pay.mutable_payment_posted();
    p->set_payment_id("P1");
    p->mutable_amount()->set_amount_minor(30000);
    p->mutable_amount()->set_currency("USD");
    p->mutable_applied()->set_principal_minor(30000);
    Add(pay, "payments");

    v1::EventEnvelope reverse;
    auto* r = reverse.mutable_payment_reversed();
    r->set_payment_id("P1");
    r->set_reason(v1::REVERSAL_REASON_NSF);
    r->set_note("returned by the bank");
    r->mutable_reopened()->set_principal_minor(30000);
    Add(reverse, "payments");

    v1::EventEnvelope pay2;
    auto* p2 = pay2.mutable_payment_posted();
    p2->set_payment_id("P2");
    p2->mutable_amount()->set_amount_minor(10000);
    p2->mutable_amount()->set_currency("USD");
    p2->mutable_applied()->set_principal_minor(10000);
    Add(pay2, "payments");
  }

  void Add(v1::EventEnvelope e, const std::string& actor) {
    const int64_t n = static_cast<int64_t>(events.size());
    e.set_event_id("evt-" + account_id + "-" + std::to_string(n + 1));
    e.set_account_id(account_id);
    e.set_sequence(n + 1);
    e.set_command_id("cmd-" + std::to_string(n + 1));
    e.mutable_actor()->set_id(actor);
    e.mutable_actor()->set_role("system");
    *e.mutable_occurred_at() = Ts(kDay1 + absl::Hours(24 * n));
    *e.mutable_recorded_at() = Ts(kDay1 + absl::Hours(24 * n + 1));
    e.set_prev_hash(events.empty() ? "" : events.back().hash());
    e.set_hash(ChainHash(e));
    events.push_back(std::move(e));
  }

  std::vector<LoggedRecord> Records() const {
    std::vector<LoggedRecord> out;
    for (size_t i = 0; i < events.size(); ++i) {
      out.push_back(DecodeRecord(partition, base_offset + static_cast<int64_t>(i), account_id,
                                 events[i].SerializeAsString()));
    }
    return out;
  }
};

// Changes one byte of the serialized record at `index` inside the payment's payload, the way
// someone editing the log file would, keeping the stored hash.
LoggedRecord FlipPaymentByte(const History& h, size_t index) {
  v1::EventEnvelope e = h.events[index];
  BOOST_REQUIRE(e.has_payment_posted());
  // Flipping the low bit of the amount's first varint byte turns 30000 into 30001: same length,
  // still a valid event, a different fact.
  std::string raw = e.SerializeAsString();
  v1::EventEnvelope amount_only;
  *amount_only.mutable_payment_posted()->mutable_amount() = e.payment_posted().amount();
  std::string needle = amount_only.payment_posted().amount().SerializeAsString();
  size_t at = raw.find(needle);
  BOOST_REQUIRE(at != std::string::npos);
  raw[at + 1] = static_cast<char>(raw[at + 1] ^ 0x01);
  return DecodeRecord(h.partition, h.base_offset + static_cast<int64_t>(index), h.account_id, raw);
}

BOOST_AUTO_TEST_CASE(an_untouched_chain_is_intact) {
  History h("ACC-1");
  BOOST_TEST(VerifyChain("ACC-1", h.Records()).empty());
  RecordsByAccount all = GroupByAccount(h.Records());
  History other("ACC-2");
  for (auto& r : other.Records()) all["ACC-2"].push_back(r);
  v1::VerifyAuditTrailResponse verdict = VerifyAll(all);
  BOOST_TEST(verdict.intact());
  BOOST_TEST(verdict.accounts_checked() == 2);
  BOOST_TEST(verdict.events_checked() == 8);
}

BOOST_AUTO_TEST_CASE(one_changed_byte_names_the_account_and_sequence) {
  History h("ACC-TAMPER");
  auto records = h.Records();
  records[1] = FlipPaymentByte(h, 1);
  BOOST_REQUIRE(records[1].parsed);
  BOOST_TEST(records[1].envelope.payment_posted().amount().amount_minor() != 30000);

  auto breaks = VerifyChain("ACC-TAMPER", records);
  BOOST_REQUIRE(breaks.size() == 1u);
  BOOST_TEST(breaks[0].account_id() == "ACC-TAMPER");
  BOOST_TEST(breaks[0].sequence() == 2);
  BOOST_TEST(breaks[0].reason() == kHashMismatch);
  BOOST_TEST(breaks[0].partition() == h.partition);
  BOOST_TEST(breaks[0].offset() == h.base_offset + 1);
}

BOOST_AUTO_TEST_CASE(a_rehashed_edit_breaks_the_link_to_the_next_event) {
  // A forger who also recomputes the edited event's hash is caught by the next event, which
  // still points at the original hash.
  History h("ACC-FORGED");
  h.events[1].mutable_payment_posted()->mutable_amount()->set_amount_minor(1);
  h.events[1].set_hash(ChainHash(h.events[1]));
  auto breaks = VerifyChain("ACC-FORGED", h.Records());
  BOOST_REQUIRE(breaks.size() == 1u);
  BOOST_TEST(breaks[0].sequence() == 3);
  BOOST_TEST(breaks[0].reason() == kPrevHashMismatch);
}

BOOST_AUTO_TEST_CASE(a_removed_event_is_a_sequence_gap) {
  History h("ACC-GAP");
  auto records = h.Records();
  records.erase(records.begin() + 2);
  auto breaks = VerifyChain("ACC-GAP", records);
  BOOST_REQUIRE(breaks.size() == 1u);
  BOOST_TEST(breaks[0].sequence() == 4);
  BOOST_TEST(breaks[0].reason() == "sequence gap: expected 3 got 4");
  BOOST_TEST(breaks[0].kind() == v1::CHAIN_BREAK_KIND_SEQUENCE_GAP);
}

BOOST_AUTO_TEST_CASE(reordered_events_break_the_chain) {
  History h("ACC-ORDER");
  auto records = h.Records();
  std::swap(records[1].envelope, records[2].envelope);  // same offsets, swapped content
  auto breaks = VerifyChain("ACC-ORDER", records);
  BOOST_REQUIRE(!breaks.empty());
  BOOST_TEST(breaks[0].account_id() == "ACC-ORDER");
  BOOST_TEST(breaks[0].sequence() == 3);
  BOOST_TEST(breaks[0].reason() == "sequence gap: expected 2 got 3");
  BOOST_TEST(VerifyAll(GroupByAccount(records)).intact() == false);
}

BOOST_AUTO_TEST_CASE(a_record_that_is_not_an_event_is_reported_under_its_key) {
  History h("ACC-JUNK");
  auto records = h.Records();
  records.push_back(DecodeRecord(h.partition, 99, "ACC-JUNK", std::string("\xff\xff\xff", 3)));
  BOOST_REQUIRE(!records.back().parsed);
  auto grouped = GroupByAccount(records);
  BOOST_REQUIRE(grouped.count("ACC-JUNK") == 1u);
  auto verdict = VerifyAll(grouped);
  BOOST_REQUIRE(verdict.breaks_size() == 1);
  BOOST_TEST(verdict.breaks(0).reason() == kUnparseable);
  BOOST_TEST(verdict.breaks(0).offset() == 99);
  BOOST_TEST(verdict.breaks(0).sequence() == 5);  // where the next event was expected
}

BOOST_AUTO_TEST_CASE(replay_gives_the_state_after_each_event_as_the_projector_stores_it) {
  History h("ACC-REPLAY");
  auto steps = Replay(h.Records(), {});
  BOOST_REQUIRE(steps.size() == 4u);
  v1::Account expected;
  for (size_t i = 0; i < steps.size(); ++i) {
    Evolve(expected, h.events[i]);
    expected.mutable_last_position()->set_partition(h.partition);
    expected.mutable_last_position()->set_offset(h.base_offset + static_cast<int64_t>(i));
    BOOST_TEST(CanonicalBytes(steps[i].state_after()) == CanonicalBytes(expected));
    BOOST_TEST(steps[i].event().sequence() == static_cast<int64_t>(i + 1));
    BOOST_TEST(steps[i].position().offset() == h.base_offset + static_cast<int64_t>(i));
  }
  // The balance a compliance officer would read off each row.
  BOOST_TEST(steps[0].state_after().total_balance_minor() == 102500);
  BOOST_TEST(steps[1].state_after().total_balance_minor() == 72500);
  BOOST_TEST(steps[2].state_after().total_balance_minor() == 102500);
  BOOST_TEST(steps[3].state_after().total_balance_minor() == 92500);
  BOOST_TEST(steps[3].state_after().last_hash() == h.events[3].hash());
}

BOOST_AUTO_TEST_CASE(replay_cuts_by_business_time_and_by_system_time) {
  History h("ACC-BITEMPORAL");
  // Day 1 + 36 h: events 1 and 2 had happened (day 0, day 1); event 2 was recorded at day 1
  // + 1 h, so both were also known.
  ReplayCut business;
  business.as_of_business_time = kDay1 + absl::Hours(36);
  auto steps = Replay(h.Records(), business);
  BOOST_REQUIRE(steps.size() == 2u);
  BOOST_TEST(steps.back().state_after().total_balance_minor() == 72500);

  // Day 2 exactly: event 3 had happened (occurred_at == cut is inside) but was recorded an hour
  // later, so the system did not know it yet.
  ReplayCut both;
  both.as_of_business_time = kDay1 + absl::Hours(48);
  both.as_known_at = kDay1 + absl::Hours(48);
  BOOST_TEST(Replay(h.Records(), both).size() == 2u);
  both.as_known_at = kDay1 + absl::Hours(49);
  auto known = Replay(h.Records(), both);
  BOOST_REQUIRE(known.size() == 3u);
  BOOST_TEST(known.back().state_after().total_balance_minor() == 102500);

  ReplayCut before_anything;
  before_anything.as_known_at = kDay1;
  BOOST_TEST(Replay(h.Records(), before_anything).empty());
}

BOOST_AUTO_TEST_CASE(audit_entry_says_who_what_when_why_and_where) {
  History h("ACC-ENTRY");
  h.events[2].mutable_decision()->set_outcome("ALLOW");
  h.events[2].mutable_decision()->set_policy_version("federal-2025");
  auto entry = ToAuditEntry(h.Records()[2]);
  BOOST_TEST(entry.account_id() == "ACC-ENTRY");
  BOOST_TEST(entry.sequence() == 3);
  BOOST_TEST(entry.event_type() == "collections.v1.PaymentReversed");
  BOOST_TEST(entry.actor().id() == "payments");
  BOOST_TEST(entry.occurred_at().seconds() == absl::ToUnixSeconds(kDay1 + absl::Hours(48)));
  BOOST_TEST(entry.recorded_at().seconds() == absl::ToUnixSeconds(kDay1 + absl::Hours(49)));
  BOOST_REQUIRE(entry.reasons_size() == 2);
  BOOST_TEST(entry.reasons(0) == "payment_reversed.reason: REVERSAL_REASON_NSF");
  BOOST_TEST(entry.reasons(1) == "payment_reversed.note: returned by the bank");
  BOOST_TEST(entry.decision().outcome() == "ALLOW");
  BOOST_TEST(entry.position().partition() == h.partition);
  BOOST_TEST(entry.position().offset() == h.base_offset + 2);
  BOOST_TEST(entry.envelope().event_id() == h.events[2].event_id());
}

BOOST_AUTO_TEST_CASE(csv_rows_match_the_header_and_quote_commas) {
  History h("ACC-CSV");
  h.events[2].mutable_payment_reversed()->set_note("said \"sorry\", twice");
  auto row = CsvRow(ToAuditEntry(h.Records()[2]));
  BOOST_TEST(row.back() == '\n');
  BOOST_TEST(row.find("\"payment_reversed.reason: REVERSAL_REASON_NSF; payment_reversed.note: said "
                      "\"\"sorry\"\", twice\"") != std::string::npos);
  BOOST_TEST(row.find(Hex(h.events[2].hash())) != std::string::npos);
  BOOST_TEST(row.find(Hex(h.events[1].hash())) != std::string::npos);  // prev_hash_hex
  // An untroubled row has exactly as many columns as the header.
  auto plain = CsvRow(ToAuditEntry(h.Records()[0]));
  auto columns = [](const std::string& line) { return std::count(line.begin(), line.end(), ','); };
  BOOST_TEST(columns(plain) == columns(CsvHeader()));
  BOOST_TEST(plain.rfind("ACC-CSV,1,evt-ACC-CSV-1,collections.v1.CaseOpened,2025-10-20T22:40:00Z,",
                         0) == 0u);
}

}  // namespace
}  // namespace collections::compliance
