#define BOOST_TEST_MODULE customer_projection
#include "projections/customer/customer_ledger.h"
#include "projections/customer/customer_projector.h"
#include "projections/customer/customer_reads.h"
#include "projections/customer/customer_store.h"
#include "projections/store/store.h"
#include "services/authz/signing.h"
#include "services/domain/customer_aggregate.h"
#include "services/domain/hashing.h"
#include "services/domain/internal.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"

#include <boost/test/unit_test.hpp>

#include <rocksdb/db.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <random>

// The customer projection on a real RocksDB, fed with customer streams the pure domain makes
// (DecideCustomer + EvolveCustomer, stamped with sequence and times as the writer stamps them):
// what GetCustomer, the reconciliation statement, the shutdown report and the work queue show,
// the statement's reproducibility as known at an instant after a back-dated correction, a
// rebuilt projection equal to the live one byte for byte, and the integrity gate: an event the
// service did not write (another key, no signature, changed contents, a broken chain)
// quarantines the customer at its last genuine event and is never applied.

namespace collections::customer {
namespace {

using internal::ToProto;

const absl::TimeZone kChicago = [] {
  absl::TimeZone tz;
  absl::LoadTimeZone("America/Chicago", &tz);
  return tz;
}();

absl::Time At(int y, int m, int d, int hour = 12) {
  return absl::FromCivil(absl::CivilHour(y, m, d, hour), kChicago);
}

v1::LocalDate Date(int y, int m, int d) {
  v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

// A fresh directory per store, removed at the end.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             absl::StrCat("customer-projection-", name, "-", getpid(), "-",
                          absl::ToUnixNanos(absl::Now()))) {}
  ~TempDir() { std::filesystem::remove_all(path); }
};

template <typename Request>
Request For(const std::string& customer, const std::string& command_id, Request r,
            const std::string& actor = "collector-1", const std::string& role = "collector") {
  r.set_customer_id(customer);
  r.set_command_id(command_id);
  r.mutable_actor()->set_id(actor);
  r.mutable_actor()->set_role(role);
  return r;
}

// The writer's signing key, and the keys the projection trusts.
const authz::SigningKey& WriterKey() {
  static const authz::SigningKey key = authz::SigningKey::Generate();
  return key;
}
std::vector<authz::VerifyingKey> TrustedKeys() {
  return {authz::VerifyingKey::FromPem(WriterKey().PublicKeyPem()).value()};
}

// Plays the writer for several customer streams: decides each command on the customer's state
// at `recorded` (business time `occurred`, when given: a back-dated entry), numbers the events,
// stamps their times, chains them and signs each command's events with `signer` (null:
// unsigned) as the writer does, and keeps the log in record order.
struct Writer {
  std::map<std::string, CustomerState> states;
  std::vector<v1::EventEnvelope> log;
  DomainSettings settings;
  const authz::SigningKey* signer = &WriterKey();

  std::vector<v1::EventEnvelope> Run(CustomerCommand command, absl::Time recorded,
                                     std::optional<absl::Time> occurred = std::nullopt) {
    if (occurred) {
      std::visit(
          [&](auto& r) {
            *r.mutable_occurred_at() = ToProto(*occurred);
            r.set_late_entry_reason("correction found at month-end review");
          },
          command);
    }
    const std::string& id = CustomerIdOf(command);
    auto it = states.find(id);
    auto decided =
        DecideCustomer(it == states.end() ? nullptr : &it->second, command, recorded, settings);
    BOOST_REQUIRE_MESSAGE(decided.ok(), CustomerCommandName(command) + " refused: " +
                                            (decided.ok() ? std::string()
                                                          : decided.error().reason + " " +
                                                                decided.error().message));
    CustomerState& state = states[id];
    std::vector<v1::EventEnvelope>& events = decided.value();
    std::vector<v1::EventEnvelope*> run;
    std::string prev_hash = state.last_hash();
    for (size_t k = 0; k < events.size(); ++k) {
      v1::EventEnvelope& e = events[k];
      e.set_sequence(state.version() + static_cast<int64_t>(k) + 1);
      e.set_event_id(absl::StrCat(id, "-", e.sequence()));
      e.set_command_id(CustomerCommandId(command));
      *e.mutable_actor() = CustomerCommandActor(command);
      *e.mutable_occurred_at() = ToProto(occurred.value_or(recorded));
      *e.mutable_recorded_at() = ToProto(recorded);
      e.set_command_event_count(static_cast<int32_t>(events.size()));
      e.set_command_event_index(static_cast<int32_t>(k));
      e.set_prev_hash(prev_hash);
      e.set_hash(ChainHash(e));
      prev_hash = e.hash();
      run.push_back(&e);
    }
    if (signer != nullptr) authz::SignRun(*signer, run);
    for (const auto& e : events) {
      EvolveCustomer(state, e);
      log.push_back(e);
    }
    return events;
  }
};

v1::OpenCustomerRequest OpenCustomer(const std::string& name, bool auto_release = false) {
  v1::OpenCustomerRequest r;
  r.set_kind(v1::CUSTOMER_KIND_COMPANY);
  r.set_name(name);
  auto* c = r.add_contacts();
  c->set_contact_id("ap");
  c->set_name("Ann Payable");
  c->add_roles("accounts_payable");
  r.set_commercial(true);
  r.set_currency("USD");
  r.set_time_zone("America/Chicago");
  r.set_cash_application_rule(v1::CASH_APPLICATION_RULE_OLDEST_FIRST);
  r.set_auto_release_hold_when_current(auto_release);
  return r;
}

v1::LinkCustomerAccountRequest Link(const std::string& account) {
  v1::LinkCustomerAccountRequest r;
  r.set_linked_account_id(account);
  r.set_reason("opened for the customer");
  return r;
}

v1::RecordInvoiceRequest Invoice(const std::string& id, const std::string& account,
                                 int64_t amount, v1::LocalDate date, v1::LocalDate due) {
  v1::RecordInvoiceRequest r;
  auto* i = r.mutable_invoice();
  i->set_invoice_id(id);
  i->set_number("N-" + id);
  i->set_account_id(account);
  *i->mutable_invoice_date() = date;
  *i->mutable_due_date() = due;
  i->mutable_amount()->set_amount_minor(amount);
  i->mutable_amount()->set_currency("USD");
  return r;
}

v1::PaymentDirection ToInvoice(const std::string& invoice, int64_t amount = 0,
                               v1::ShortPaymentReason reason =
                                   v1::SHORT_PAYMENT_REASON_UNSPECIFIED) {
  v1::PaymentDirection d;
  d.set_invoice_id(invoice);
  d.set_amount_minor(amount);
  d.set_short_reason(reason);
  return d;
}

v1::ReceiveCustomerPaymentRequest Payment(const std::string& id, int64_t amount,
                                          v1::LocalDate received,
                                          std::vector<v1::PaymentDirection> directions = {},
                                          const std::string& reference = "") {
  v1::ReceiveCustomerPaymentRequest r;
  r.set_payment_id(id);
  r.mutable_amount()->set_amount_minor(amount);
  r.mutable_amount()->set_currency("USD");
  r.set_method(v1::PAYMENT_METHOD_WIRE);
  r.set_payer_reference(reference.empty() ? "REM-" + id : reference);
  *r.mutable_received_date() = received;
  for (auto& d : directions) *r.add_directions() = d;
  return r;
}

v1::AdjustInvoiceRequest Adjust(const std::string& id, const std::string& invoice,
                                v1::InvoiceAdjustmentKind kind, int64_t amount,
                                const std::string& reason) {
  v1::AdjustInvoiceRequest r;
  r.set_adjustment_id(id);
  r.set_invoice_id(invoice);
  r.set_kind(kind);
  r.set_amount_minor(amount);
  r.set_reason(reason);
  return r;
}

// Applies `events` to the projection in batches of `batch_size` records, with offsets, as the
// projector does (partition 0, offsets from `first_offset`).
void Feed(CustomerProjection& projection, const std::vector<v1::EventEnvelope>& events,
          size_t batch_size = 1000, int64_t first_offset = 0) {
  for (size_t start = 0; start < events.size(); start += batch_size) {
    std::vector<ProjectedEvent> batch;
    for (size_t i = start; i < std::min(events.size(), start + batch_size); ++i) {
      ProjectedEvent p;
      p.partition = 0;
      p.offset = first_offset + static_cast<int64_t>(i);
      p.event = &events[i];
      batch.push_back(std::move(p));
    }
    const int64_t next = first_offset + static_cast<int64_t>(start + batch.size());
    auto error = projection.ApplyBatch(batch, {{0, next}});
    BOOST_REQUIRE_MESSAGE(!error, (error ? error->message : std::string()));
  }
}

// The accounts-receivable story of one customer (America/Chicago, USD), by business date:
//   September: five invoices, 1,000.00 .. 5,000.00 (INV-1 .. INV-5, due 1 .. 31 October), and a
//     payment P-0 of 500.00 directed to INV-4.          September closes at 14,500.00.
//   October:
//     06  P-1 3,000.00 directed to two invoices: INV-2 in full (2,000.00), 1,000.00 of INV-3
//     08  P-2 900.00 directed to INV-1, short by 100.00 with a deduction: discrepancy
//     12  the deduction accepted: credit memo CM-D 100.00 on INV-1 (INV-1 now paid)
//     14  P-3: P-1 again (same reference, amount, date): a duplicate, refunded (REF-P-3)
//     20  credit memo CM-1 of 50.00 on INV-3 (pricing)
//     25  P-4 1,000.00: 600.00 directed to INV-3, the 400.00 left held as unapplied cash
//     26  INV-5 disputed
//   October: opening 14,500.00; payments 3,000 + 900 + 3,000 + 1,000 = 7,900.00; credit memos
//   150.00; refunds 3,000.00; closing 14,500 - 7,900 - 150 + 3,000 = 9,450.00. Open at the
//   end: INV-3 3,000 - 1,000 - 50 - 600 = 1,350.00, INV-4 3,500.00, INV-5 5,000.00 (disputed)
//   = 9,850.00, less 400.00 unapplied cash = 9,450.00.
Writer Story(const std::string& id = "C-1") {
  Writer w;
  w.Run(For(id, "open", OpenCustomer("Northwind Traders")), At(2025, 9, 1));
  w.Run(For(id, "link-1", Link("ACC-1")), At(2025, 9, 1, 13));
  w.Run(For(id, "link-2", Link("ACC-2")), At(2025, 9, 1, 14));
  for (int n = 1; n <= 5; ++n) {
    w.Run(For(id, absl::StrCat("inv-", n),
              Invoice(absl::StrCat("INV-", n), n % 2 == 1 ? "ACC-1" : "ACC-2", n * 100000,
                      Date(2025, 9, n + 1), Date(2025, 10, n == 5 ? 31 : n))),
          At(2025, 9, n + 1));
  }
  w.Run(For(id, "p0", Payment("P-0", 50000, Date(2025, 9, 20), {ToInvoice("INV-4", 50000)})),
        At(2025, 9, 20));
  w.Run(For(id, "p1",
            Payment("P-1", 300000, Date(2025, 10, 6),
                    {ToInvoice("INV-2"), ToInvoice("INV-3", 100000)}, "WIRE-77")),
        At(2025, 10, 6));
  w.Run(For(id, "p2",
            Payment("P-2", 90000, Date(2025, 10, 8),
                    {ToInvoice("INV-1", 90000, v1::SHORT_PAYMENT_REASON_DEDUCTION)})),
        At(2025, 10, 8));
  v1::ResolveShortPaymentRequest resolve;
  resolve.set_discrepancy_id("P-2:INV-1");
  resolve.set_resolution(v1::DISCREPANCY_RESOLUTION_ACCEPTED);
  resolve.set_adjustment_id("CM-D");
  resolve.set_note("deduction for late delivery agreed");
  w.Run(For(id, "resolve", resolve), At(2025, 10, 12));
  w.Run(For(id, "p3", Payment("P-3", 300000, Date(2025, 10, 6), {}, "WIRE-77")),
        At(2025, 10, 14));
  w.Run(For(id, "cm1",
            Adjust("CM-1", "INV-3", v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO, 5000, "pricing")),
        At(2025, 10, 20));
  auto p4 = Payment("P-4", 100000, Date(2025, 10, 25), {ToInvoice("INV-3", 60000)});
  p4.set_apply_remainder_by_rule(false);
  w.Run(For(id, "p4", p4), At(2025, 10, 25));
  v1::DisputeInvoiceRequest dispute;
  dispute.set_invoice_id("INV-5");
  dispute.set_dispute_id("D-1");
  dispute.set_reason("goods not received");
  w.Run(For(id, "dispute", dispute), At(2025, 10, 26));
  return w;
}

struct Projection {
  TempDir dir;
  std::unique_ptr<CustomerStore> store;
  std::unique_ptr<CustomerProjection> projection;
  explicit Projection(const std::string& name) : dir(name) {
    auto opened = CustomerStore::Open(dir.path.string());
    BOOST_REQUIRE(opened.ok());
    store = std::move(opened.value());
    projection = std::make_unique<CustomerProjection>(*store, TrustedKeys());
  }
  std::string Digest() const {
    auto d = store->Digest();
    BOOST_REQUIRE(d.ok());
    return d.value();
  }
};

v1::CustomerReconciliation Statement(const CustomerStore& store, const std::string& id,
                                     v1::LocalDate from, v1::LocalDate to, absl::Time known_at) {
  v1::GetCustomerReconciliationRequest request;
  request.set_customer_id(id);
  *request.mutable_from() = from;
  *request.mutable_to() = to;
  *request.mutable_as_known_at() = ToProto(known_at);
  auto read = ReadReconciliation(store, request, absl::Now());
  BOOST_REQUIRE_MESSAGE(read.ok(), (read.ok() ? std::string() : read.error().message));
  return read.value().statement();
}

std::string Document(const CustomerStore& store, const std::string& id, v1::LocalDate from,
                     v1::LocalDate to, absl::Time known_at, v1::ReportFormat format) {
  v1::GetCustomerReconciliationRequest request;
  request.set_customer_id(id);
  *request.mutable_from() = from;
  *request.mutable_to() = to;
  *request.mutable_as_known_at() = ToProto(known_at);
  request.set_format(format);
  auto read = ReadReconciliation(store, request, absl::Now());
  BOOST_REQUIRE_MESSAGE(read.ok(), (read.ok() ? std::string() : read.error().message));
  return read.value().document();
}

// The statement a full scan gives: every line the store ever recorded, no snapshot.
v1::CustomerReconciliation FullScanStatement(const CustomerStore& store, const std::string& id,
                                             absl::CivilDay from, absl::CivilDay to,
                                             absl::Time known_at) {
  auto reader = store.NewReader();
  StatementInput input;
  auto head = reader->Get(CustomerStore::Family::kHeads, id);
  BOOST_REQUIRE(head.ok() && head.value());
  BOOST_REQUIRE(input.head.ParseFromString(*head.value()));
  input.base_date = absl::CivilDay(1970, 1, 1);
  const std::string prefix = CustomerPrefix(id);
  std::string limit = prefix;
  limit.back() = '\x01';
  BOOST_REQUIRE(!reader->Scan(CustomerStore::Family::kFacts, prefix, limit,
                              [&](std::string_view, std::string_view value) {
                                v1::CustomerStatementLine line;
                                BOOST_REQUIRE(line.ParseFromArray(value.data(), value.size()));
                                input.lines.push_back(line);
                                return true;
                              }));
  BOOST_REQUIRE(!reader->Scan(CustomerStore::Family::kItems, prefix + kInvoiceItem,
                              prefix + static_cast<char>(kInvoiceItem + 1),
                              [&](std::string_view, std::string_view value) {
                                state::v1::CustomerInvoiceState i;
                                BOOST_REQUIRE(i.ParseFromArray(value.data(), value.size()));
                                input.invoices[i.invoice().invoice_id()] = i.invoice();
                                return true;
                              }));
  return BuildReconciliation(input, from, to, known_at);
}

std::vector<std::string> LineKinds(const v1::CustomerReconciliation& s) {
  std::vector<std::string> out;
  for (const auto& l : s.lines()) {
    out.push_back(absl::StrCat(internal::ToCivil(l.business_date()).day(), " ",
                               v1::StatementLineKind_Name(l.kind()).substr(20), " ",
                               l.invoice_id(), " ", l.amount_minor()));
  }
  return out;
}

BOOST_AUTO_TEST_CASE(october_statement_opening_lines_closing_and_open_items) {
  Writer w = Story();
  Projection p("statement");
  Feed(*p.projection, w.log, 4);
  const auto s = Statement(*p.store, "C-1", Date(2025, 10, 1), Date(2025, 10, 31),
                           At(2025, 11, 5));
  BOOST_TEST(s.name() == "Northwind Traders");
  BOOST_TEST(s.opening_balance_minor() == 1450000);
  BOOST_TEST(s.invoiced_minor() == 0);
  BOOST_TEST(s.payments_minor() == 790000);
  BOOST_TEST(s.credit_memos_minor() == 15000);
  BOOST_TEST(s.debit_memos_minor() == 0);
  BOOST_TEST(s.refunds_minor() == 300000);
  BOOST_TEST(s.closing_balance_minor() == 945000);
  BOOST_TEST(s.unapplied_cash_minor() == 40000);
  BOOST_TEST(s.open_items_minor() == 985000);
  BOOST_TEST(s.closing_balance_minor() == s.open_items_minor() - s.unapplied_cash_minor());
  // Every payment and how it went, in business-date order.
  const std::vector<std::string> expected = {
      "6 PAYMENT  300000",
      "6 PAYMENT_APPLIED INV-2 200000",
      "6 PAYMENT_APPLIED INV-3 100000",
      "8 PAYMENT  90000",
      "8 PAYMENT_APPLIED INV-1 90000",
      "8 DISCREPANCY_OPENED INV-1 10000",
      "12 CREDIT_MEMO INV-1 10000",
      "12 DISCREPANCY_RESOLVED INV-1 10000",
      "14 PAYMENT  300000",
      "14 DUPLICATE_REFUND  300000",
      "20 CREDIT_MEMO INV-3 5000",
      "25 PAYMENT  100000",
      "25 PAYMENT_APPLIED INV-3 60000",
      "25 UNAPPLIED_CASH  40000",
      "26 INVOICE_DISPUTED INV-5 0",
  };
  const auto kinds = LineKinds(s);
  BOOST_TEST(kinds == expected, boost::test_tools::per_element());
  BOOST_TEST(s.lines(1).detail() == "directed by the payer");
  BOOST_TEST(s.lines(1).invoice_number() == "N-INV-2");
  BOOST_TEST(s.lines(1).account_id() == "ACC-2");
  BOOST_TEST(s.lines(8).detail().find("duplicate of P-1") != std::string::npos);
  BOOST_TEST(s.lines(s.lines_size() - 1).balance_after_minor() == 945000);
  BOOST_REQUIRE(s.open_items_size() == 3);
  BOOST_TEST(s.open_items(0).invoice().invoice_id() == "INV-3");
  BOOST_TEST(s.open_items(0).open_minor() == 135000);
  BOOST_TEST(s.open_items(0).days_past_due() == 28);  // due 3 Oct, 31 Oct
  BOOST_TEST(s.open_items(1).invoice().invoice_id() == "INV-4");
  BOOST_TEST(s.open_items(1).open_minor() == 350000);
  BOOST_TEST(s.open_items(2).invoice().invoice_id() == "INV-5");
  BOOST_TEST(s.open_items(2).disputed());
  BOOST_TEST(s.open_items(2).days_past_due() == 0);  // due 31 Oct
  BOOST_TEST(s.open_items(2).invoice().number() == "N-INV-5");

  // September: the invoices and P-0; it closes where October opens.
  const auto sept = Statement(*p.store, "C-1", Date(2025, 9, 1), Date(2025, 9, 30),
                              At(2025, 11, 5));
  BOOST_TEST(sept.opening_balance_minor() == 0);
  BOOST_TEST(sept.invoiced_minor() == 1500000);
  BOOST_TEST(sept.payments_minor() == 50000);
  BOOST_TEST(sept.closing_balance_minor() == s.opening_balance_minor());
}

BOOST_AUTO_TEST_CASE(a_statement_stays_byte_identical_as_known_at_after_a_back_dated_correction) {
  Writer w = Story();
  Projection p("known-at");
  Feed(*p.projection, w.log);
  const absl::Time known = At(2025, 11, 5);
  const auto from = Date(2025, 10, 1), to = Date(2025, 10, 31);
  const std::string proto_before =
      Statement(*p.store, "C-1", from, to, known).SerializeAsString();
  const std::string csv_before = Document(*p.store, "C-1", from, to, known, v1::REPORT_FORMAT_CSV);
  const std::string html_before =
      Document(*p.store, "C-1", from, to, known, v1::REPORT_FORMAT_HTML);

  // Recorded on 20 November, dated in October and in September: a debit memo of 25.00 on INV-4
  // (15 Oct) and a credit memo of 10.00 on INV-4 (15 Sept).
  const size_t before = w.log.size();
  w.Run(For("C-1", "dm-late",
            Adjust("DM-L", "INV-4", v1::INVOICE_ADJUSTMENT_KIND_DEBIT_MEMO, 2500, "freight")),
        At(2025, 11, 20), At(2025, 10, 15));
  w.Run(For("C-1", "cm-late",
            Adjust("CM-L", "INV-4", v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO, 1000, "rebate")),
        At(2025, 11, 20, 13), At(2025, 9, 15));
  Feed(*p.projection, std::vector<v1::EventEnvelope>(w.log.begin() + before, w.log.end()), 1000,
       static_cast<int64_t>(before));

  // As known at 5 November: the same bytes, in every format.
  BOOST_TEST(Statement(*p.store, "C-1", from, to, known).SerializeAsString() == proto_before);
  BOOST_TEST(Document(*p.store, "C-1", from, to, known, v1::REPORT_FORMAT_CSV) == csv_before);
  BOOST_TEST(Document(*p.store, "C-1", from, to, known, v1::REPORT_FORMAT_HTML) == html_before);

  // As known at 21 November: restated. September's credit memo moves October's opening
  // balance; October's debit memo is a line of its own on its business date.
  const auto after = Statement(*p.store, "C-1", from, to, At(2025, 11, 21));
  BOOST_TEST(after.opening_balance_minor() == 1450000 - 1000);
  BOOST_TEST(after.debit_memos_minor() == 2500);
  BOOST_TEST(after.closing_balance_minor() == 945000 - 1000 + 2500);
  BOOST_TEST(after.closing_balance_minor() ==
             after.open_items_minor() - after.unapplied_cash_minor());
  bool found = false;
  for (const auto& l : after.lines()) {
    if (l.reference() == "DM-L") {
      found = true;
      BOOST_TEST(internal::ToCivil(l.business_date()) == absl::CivilDay(2025, 10, 15));
      BOOST_TEST(l.balance_change_minor() == 2500);
    }
  }
  BOOST_TEST(found);
  BOOST_TEST(csv_before.starts_with("field,value\ncustomer_id,C-1\n"));
  BOOST_TEST(csv_before.find("business_date,sequence,kind,invoice_id") != std::string::npos);
  BOOST_TEST(html_before.starts_with("<!DOCTYPE html>"));
  BOOST_TEST(html_before.find("<script") == std::string::npos);
  BOOST_TEST(html_before.find("data-field=\"closing\">9450.00<") != std::string::npos);
}

// The snapshots are an optimization: for every period and known-at instant the statement is
// exactly what a scan of every line gives.
BOOST_AUTO_TEST_CASE(snapshot_statements_equal_a_full_scan) {
  Writer w = Story();
  w.Run(For("C-1", "dm-late",
            Adjust("DM-L", "INV-4", v1::INVOICE_ADJUSTMENT_KIND_DEBIT_MEMO, 2500, "freight")),
        At(2025, 11, 20), At(2025, 10, 15));
  w.Run(For("C-1", "cm-late",
            Adjust("CM-L", "INV-4", v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO, 1000, "rebate")),
        At(2025, 12, 2), At(2025, 9, 15));
  w.Run(For("C-1", "inv-6",
            Invoice("INV-6", "ACC-2", 70000, Date(2025, 12, 1), Date(2026, 1, 15))),
        At(2025, 12, 3));
  Projection p("full-scan");
  Feed(*p.projection, w.log, 3);
  using D = absl::CivilDay;
  const std::vector<std::pair<D, D>> periods = {
      {D(2025, 9, 1), D(2025, 9, 30)},   {D(2025, 10, 1), D(2025, 10, 31)},
      {D(2025, 10, 10), D(2025, 11, 9)}, {D(2025, 11, 1), D(2025, 12, 31)},
      {D(2025, 8, 1), D(2025, 12, 31)},  {D(2025, 9, 15), D(2025, 9, 15)}};
  const std::vector<absl::Time> known = {At(2025, 9, 10), At(2025, 10, 1, 0), At(2025, 10, 31, 23),
                                         At(2025, 11, 5), At(2025, 11, 20, 12),
                                         At(2025, 11, 30), At(2025, 12, 2, 13), At(2026, 1, 1)};
  for (const auto& [from, to] : periods) {
    for (absl::Time k : known) {
      const auto fast = Statement(*p.store, "C-1", internal::ToLocalDate(from),
                                  internal::ToLocalDate(to), k);
      const auto full = FullScanStatement(*p.store, "C-1", from, to, k);
      BOOST_TEST(fast.SerializeAsString() == full.SerializeAsString(),
                 "period " << from << ".." << to << " known at " << k);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_rebuilt_projection_equals_the_live_one) {
  Writer w = Story("C-1");
  Writer other = Story("C-2");
  // Two customers interleaved, and an account stream's event the projection skips.
  std::vector<v1::EventEnvelope> log;
  for (size_t i = 0; i < std::max(w.log.size(), other.log.size()); ++i) {
    if (i < w.log.size()) log.push_back(w.log[i]);
    if (i < other.log.size()) log.push_back(other.log[i]);
    if (i == 3) {
      v1::EventEnvelope account;
      account.set_account_id("ACC-1");
      account.set_sequence(1);
      account.mutable_customer_account_linked();  // whatever it carries, not a customer stream
      log.push_back(account);
    }
  }
  Projection live("live");
  // Live: small batches of varying size, as polls cut them.
  std::mt19937 random(7);
  for (size_t start = 0; start < log.size();) {
    const size_t size = 1 + random() % 5;
    std::vector<v1::EventEnvelope> part(log.begin() + start,
                                        log.begin() + std::min(log.size(), start + size));
    Feed(*live.projection, part, 1000, static_cast<int64_t>(start));
    start += part.size();
  }
  Projection rebuilt("rebuilt");
  Feed(*rebuilt.projection, log, 1000);
  BOOST_TEST(live.Digest() == rebuilt.Digest());
  // Applying a record again (a replayed batch) changes nothing.
  Feed(*rebuilt.projection, std::vector<v1::EventEnvelope>(log.end() - 3, log.end()), 1000,
       static_cast<int64_t>(log.size()) - 3);
  BOOST_TEST(live.Digest() == rebuilt.Digest());
  v1::GetCustomerRequest request;
  request.set_customer_id("C-2");
  BOOST_TEST(ReadCustomer(*live.store, request, At(2025, 11, 1)).value().SerializeAsString() ==
             ReadCustomer(*rebuilt.store, request, At(2025, 11, 1)).value().SerializeAsString());
}

BOOST_AUTO_TEST_CASE(get_customer_shows_totals_aging_discrepancies_and_invoices) {
  Writer w = Story();
  // Stop before the discrepancy is resolved, to see it open: replay up to P-2.
  Projection p("get");
  std::vector<v1::EventEnvelope> until_p2;
  for (const auto& e : w.log) {
    until_p2.push_back(e);
    if (e.has_short_payment_discrepancy_opened()) break;
  }
  Feed(*p.projection, until_p2);
  v1::GetCustomerRequest request;
  request.set_customer_id("C-1");
  auto mid = ReadCustomer(*p.store, request, At(2025, 10, 9));
  BOOST_REQUIRE(mid.ok());
  BOOST_REQUIRE(mid->open_discrepancies_size() == 1);
  BOOST_TEST(mid->open_discrepancies(0).discrepancy_id() == "P-2:INV-1");
  BOOST_TEST(mid->open_discrepancies(0).amount_minor() == 10000);
  BOOST_TEST(mid->open_discrepancies(0).reason() == v1::SHORT_PAYMENT_REASON_DEDUCTION);
  BOOST_TEST(mid->totals().in_discrepancy_minor() == 10000);
  // INV-1 (due 1 Oct) is open only by its discrepancy: not delinquent. INV-3 (due 3 Oct) is.
  BOOST_TEST(mid->days_past_due() == 6);

  Feed(*p.projection, std::vector<v1::EventEnvelope>(w.log.begin() + until_p2.size(), w.log.end()),
       1000, static_cast<int64_t>(until_p2.size()));
  auto c = ReadCustomer(*p.store, request, At(2025, 11, 15));
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->name() == "Northwind Traders");
  BOOST_TEST(c->commercial());
  BOOST_TEST(c->contacts_size() == 1);
  BOOST_TEST(c->account_ids_size() == 2);
  BOOST_TEST(c->open_discrepancies_size() == 0);
  BOOST_TEST(c->totals().open_minor() == 985000);
  BOOST_TEST(c->totals().unapplied_cash_minor() == 40000);
  BOOST_TEST(c->totals().exposure_minor() == 945000);
  BOOST_TEST(c->totals().disputed_minor() == 500000);
  BOOST_TEST(c->totals().open_invoices() == 3);
  BOOST_TEST(c->totals().past_due_minor() == 985000);  // all three are past due on 15 Nov
  // The oldest delinquent: INV-3, due 3 Oct, 43 days on 15 Nov (INV-5 is disputed).
  BOOST_TEST(c->days_past_due() == 43);
  // Aging by invoice: INV-3 (43 days) and INV-4 (due 4 Oct, 42) in 30-59; INV-5 (15) in 1-29.
  BOOST_REQUIRE(c->aging_size() == 2);
  BOOST_TEST(c->aging(0).bucket() == v1::AGING_BUCKET_1_29);
  BOOST_TEST(c->aging(0).open_minor() == 500000);
  BOOST_TEST(c->aging(1).bucket() == v1::AGING_BUCKET_30_59);
  BOOST_TEST(c->aging(1).invoices() == 2);
  BOOST_TEST(c->aging(1).open_minor() == 485000);
  // The open invoices by due date; the paid ones only when asked.
  BOOST_REQUIRE(c->invoices_size() == 3);
  BOOST_TEST(c->invoices(0).invoice().invoice_id() == "INV-3");
  BOOST_TEST(c->invoices(0).paid_minor() == 160000);
  BOOST_TEST(c->invoices(0).credited_minor() == 5000);
  BOOST_TEST(c->invoices(2).status() == v1::CUSTOMER_INVOICE_STATUS_DISPUTED);
  request.set_include_paid_invoices(true);
  request.set_page_size(2);
  auto page1 = ReadCustomer(*p.store, request, At(2025, 11, 15));
  BOOST_REQUIRE(page1.ok());
  BOOST_REQUIRE(page1->invoices_size() == 2);
  BOOST_TEST(page1->invoices(0).invoice().invoice_id() == "INV-1");
  BOOST_TEST(page1->invoices(0).status() == v1::CUSTOMER_INVOICE_STATUS_PAID);
  BOOST_TEST(page1->invoices(0).credited_minor() == 10000);
  BOOST_TEST(!page1->next_page_token().empty());
  std::vector<std::string> ids = {page1->invoices(0).invoice().invoice_id(),
                                  page1->invoices(1).invoice().invoice_id()};
  request.set_page_token(page1->next_page_token());
  for (int pages = 0; pages < 5 && !request.page_token().empty(); ++pages) {
    auto next = ReadCustomer(*p.store, request, At(2025, 11, 15));
    BOOST_REQUIRE(next.ok());
    for (const auto& i : next->invoices()) ids.push_back(i.invoice().invoice_id());
    request.set_page_token(next->next_page_token());
  }
  BOOST_TEST(ids == (std::vector<std::string>{"INV-1", "INV-2", "INV-3", "INV-4", "INV-5"}),
             boost::test_tools::per_element());
}

// The head row does not grow with the ledger: applying an event costs the same whatever the
// customer's history (its invoices are rows of their own).
BOOST_AUTO_TEST_CASE(the_customer_head_does_not_grow_with_its_invoices) {
  Writer w;
  w.Run(For("C-9", "open", OpenCustomer("Big Buyer")), At(2025, 9, 1));
  w.Run(For("C-9", "link", Link("ACC-9")), At(2025, 9, 1, 13));
  Projection p("head");
  auto head_size = [&] {
    auto reader = p.store->NewReader();
    auto head = reader->Get(CustomerStore::Family::kHeads, "C-9");
    BOOST_REQUIRE(head.ok() && head.value());
    return head.value()->size();
  };
  size_t fed = 0;
  auto feed = [&] {
    Feed(*p.projection, std::vector<v1::EventEnvelope>(w.log.begin() + fed, w.log.end()), 1000,
         static_cast<int64_t>(fed));
    fed = w.log.size();
  };
  w.Run(For("C-9", "inv-0", Invoice("I-0", "ACC-9", 1000, Date(2025, 9, 2), Date(2025, 10, 2))),
        At(2025, 9, 2));
  feed();
  const size_t one = head_size();
  for (int n = 1; n < 150; ++n) {
    w.Run(For("C-9", absl::StrCat("inv-", n),
              Invoice(absl::StrCat("I-", n), "ACC-9", 1000, Date(2025, 9, 2), Date(2025, 10, 2))),
          At(2025, 9, 2, 13) + absl::Seconds(n));
  }
  feed();
  BOOST_TEST(head_size() <= one + 4);  // only varint widths of the totals may grow
  v1::GetCustomerRequest request;
  request.set_customer_id("C-9");
  auto c = ReadCustomer(*p.store, request, At(2025, 9, 3));
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->totals().open_minor() == 150 * 1000);
  BOOST_TEST(c->invoices_size() == kDefaultInvoicePage);
  BOOST_TEST(!c->next_page_token().empty());
}

Writer Holds() {
  Writer w;
  // A: recommended by collector-1, approved by supervisor-1. B: recommended only. C:
  // recommended, approved and released. D: never on hold.
  for (const std::string id : {"A", "B", "C", "D"}) {
    w.Run(For(id, "open", OpenCustomer("Customer " + id)), At(2025, 9, 1));
    w.Run(For(id, "link", Link("ACC-" + id)), At(2025, 9, 1, 13));
    w.Run(For(id, "inv",
              Invoice("I-" + id, "ACC-" + id, id == "A" ? 500000 : id == "B" ? 200000 : 100000,
                      Date(2025, 9, 1), Date(2025, 9, 30))),
          At(2025, 9, 2));
  }
  // B's oldest invoice is older: due 15 Sept.
  w.Run(For("B", "inv-old", Invoice("I-B0", "ACC-B", 10000, Date(2025, 8, 15), Date(2025, 9, 15))),
        At(2025, 9, 3));
  for (const std::string id : {"A", "B", "C"}) {
    v1::RecommendCreditHoldRequest recommend;
    recommend.set_hold_id("H-" + id);
    recommend.set_reason("60 days past due, no promise");
    w.Run(For(id, "recommend", recommend), At(2025, 11, 1));
  }
  for (const std::string id : {"A", "C"}) {
    v1::ApproveCreditHoldRequest approve;
    approve.set_hold_id("H-" + id);
    approve.set_note("agreed, sales told");
    w.Run(For(id, "approve", approve, "supervisor-1", "supervisor"), At(2025, 11, 2));
  }
  v1::ReleaseCreditHoldRequest release;
  release.set_hold_id("H-C");
  release.set_reason("paid in full");
  w.Run(For("C", "release", release, "supervisor-1", "supervisor"), At(2025, 11, 3));
  return w;
}

BOOST_AUTO_TEST_CASE(the_shutdown_report_lists_every_customer_on_hold_or_recommended) {
  Writer w = Holds();
  Projection p("shutdown");
  Feed(*p.projection, w.log, 5);
  v1::GetShutdownReportRequest request;
  auto report = ReadShutdownReport(*p.store, request, At(2025, 11, 10));
  BOOST_REQUIRE(report.ok());
  BOOST_REQUIRE(report->entries_size() == 2);
  const auto& a = report->entries(0);
  BOOST_TEST(a.customer_id() == "A");
  BOOST_TEST(a.name() == "Customer A");
  BOOST_TEST(a.hold().hold_id() == "H-A");
  BOOST_TEST(a.hold().status() == v1::CREDIT_HOLD_STATUS_APPROVED);
  BOOST_TEST(a.hold().reason() == "60 days past due, no promise");
  BOOST_TEST(a.hold().recommended_by() == "collector-1");
  BOOST_TEST(a.hold().approved_by() == "supervisor-1");
  BOOST_TEST(internal::ToTime(a.hold().recommended_at()) == At(2025, 11, 1));
  BOOST_TEST(internal::ToTime(a.hold().approved_at()) == At(2025, 11, 2));
  BOOST_TEST(a.hold().recommended_exposure_minor() == 500000);
  BOOST_TEST(a.hold().recommended_days_past_due() == 32);  // due 30 Sept, 1 Nov
  BOOST_TEST(a.exposure_minor() == 500000);
  BOOST_TEST(a.days_past_due() == 41);  // 10 Nov
  BOOST_TEST(a.past_due_minor() == 500000);
  const auto& b = report->entries(1);
  BOOST_TEST(b.customer_id() == "B");
  BOOST_TEST(b.hold().status() == v1::CREDIT_HOLD_STATUS_RECOMMENDED);
  BOOST_TEST(b.hold().approved_by().empty());
  BOOST_TEST(b.days_past_due() == 56);  // I-B0, due 15 Sept
  BOOST_TEST(b.exposure_minor() == 210000);

  // Paged one at a time: the same entries.
  request.set_page_size(1);
  auto first = ReadShutdownReport(*p.store, request, At(2025, 11, 10));
  BOOST_REQUIRE(first.ok() && first->entries_size() == 1);
  BOOST_TEST(!first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  auto second = ReadShutdownReport(*p.store, request, At(2025, 11, 10));
  BOOST_REQUIRE(second.ok() && second->entries_size() == 1);
  BOOST_TEST(second->entries(0).customer_id() == "B");
  BOOST_TEST(second->next_page_token().empty());

  // CSV: a header and one row per entry.
  request.clear_page_token();
  request.set_page_size(0);
  request.set_format(v1::REPORT_FORMAT_CSV);
  auto csv = ReadShutdownReport(*p.store, request, At(2025, 11, 10));
  BOOST_REQUIRE(csv.ok());
  BOOST_TEST(csv->content_type() == "text/csv; charset=utf-8");
  BOOST_TEST(csv->document().starts_with("customer_id,name,hold_id,status,reason,recommended_by,"));
  BOOST_TEST(csv->document().find("\nA,Customer A,H-A,approved,") != std::string::npos);
  BOOST_TEST(std::count(csv->document().begin(), csv->document().end(), '\n') == 3);

  // GetCustomer shows the holds of the customer.
  v1::GetCustomerRequest get;
  get.set_customer_id("A");
  auto customer_a = ReadCustomer(*p.store, get, At(2025, 11, 10));
  BOOST_REQUIRE(customer_a.ok());
  BOOST_TEST(customer_a->hold_status() == v1::CREDIT_HOLD_STATUS_APPROVED);
  get.set_customer_id("C");
  auto customer_c = ReadCustomer(*p.store, get, At(2025, 11, 10));
  BOOST_REQUIRE(customer_c.ok());
  BOOST_TEST(customer_c->hold_status() == v1::CREDIT_HOLD_STATUS_UNSPECIFIED);
  BOOST_TEST(customer_c->holds_size() == 0);
}

BOOST_AUTO_TEST_CASE(the_work_queue_ranks_customers_by_exposure_times_days_past_due) {
  Writer w = Holds();
  Projection p("queue");
  Feed(*p.projection, w.log);
  v1::GetCustomerWorkQueueRequest request;
  auto queue = ReadCustomerWorkQueue(*p.store, request, At(2025, 11, 10));
  BOOST_REQUIRE(queue.ok());
  // A: 5,000.00 x 41 = 20,500,000; B: 2,100.00 x 56 = 11,760,000; C and D: 1,000.00 x 41.
  BOOST_REQUIRE(queue->items_size() == 4);
  BOOST_TEST(queue->items(0).customer_id() == "A");
  BOOST_TEST(queue->items(0).priority() == 500000LL * 41);
  BOOST_TEST(queue->items(0).hold_status() == v1::CREDIT_HOLD_STATUS_APPROVED);
  BOOST_TEST(queue->items(1).customer_id() == "B");
  BOOST_TEST(queue->items(1).priority() == 210000LL * 56);
  BOOST_TEST(queue->items(2).customer_id() == "C");
  BOOST_TEST(queue->items(3).customer_id() == "D");
  request.set_limit(1);
  BOOST_TEST(ReadCustomerWorkQueue(*p.store, request, At(2025, 11, 10))->items_size() == 1);
  // Nothing past due yet on 30 Sept: an empty queue.
  request.set_limit(0);
  BOOST_TEST(ReadCustomerWorkQueue(*p.store, request, At(2025, 9, 10))->items_size() == 0);
}

BOOST_AUTO_TEST_CASE(bad_requests_name_every_wrong_field) {
  Projection p("bad");
  Feed(*p.projection, Story().log);
  v1::GetCustomerReconciliationRequest r;
  *r.mutable_from() = Date(2025, 2, 30);
  *r.mutable_to() = Date(2025, 1, 1);
  r.mutable_as_known_at()->set_seconds(-5);
  r.set_format(static_cast<v1::ReportFormat>(9));
  auto bad = ReadReconciliation(*p.store, r, absl::Now());
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(static_cast<int>(bad.error().code) == static_cast<int>(Errc::kInvalidArgument));
  std::vector<std::string> fields;
  for (const auto& v : bad.error().violations) fields.push_back(v.field);
  BOOST_TEST(fields == (std::vector<std::string>{"customer_id", "from", "as_known_at", "format"}),
             boost::test_tools::per_element());

  v1::GetCustomerReconciliationRequest year;
  year.set_customer_id("C-1");
  *year.mutable_from() = Date(2024, 1, 1);
  *year.mutable_to() = Date(2025, 1, 1);
  auto long_period = ReadReconciliation(*p.store, year, absl::Now());
  BOOST_REQUIRE(!long_period.ok());
  BOOST_TEST(long_period.error().field == "to");

  v1::GetCustomerReconciliationRequest unknown;
  unknown.set_customer_id("NOBODY");
  *unknown.mutable_from() = Date(2025, 10, 1);
  *unknown.mutable_to() = Date(2025, 10, 31);
  auto missing = ReadReconciliation(*p.store, unknown, absl::Now());
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().reason == "CUSTOMER_NOT_FOUND");

  v1::GetCustomerRequest get;
  get.set_customer_id("C-1");
  get.set_page_size(501);
  get.set_page_token("x");
  auto bad_get = ReadCustomer(*p.store, get, absl::Now());
  BOOST_REQUIRE(!bad_get.ok());
  BOOST_TEST(bad_get.error().violations.size() == 2u);

  v1::GetShutdownReportRequest shutdown;
  shutdown.set_page_token("not hex");
  BOOST_TEST(ReadShutdownReport(*p.store, shutdown, absl::Now()).error().field == "page_token");
  v1::GetCustomerWorkQueueRequest queue;
  queue.set_limit(-1);
  BOOST_TEST(ReadCustomerWorkQueue(*p.store, queue, absl::Now()).error().field == "limit");
}

BOOST_AUTO_TEST_CASE(a_store_of_another_layout_is_rebuilt_empty) {
  TempDir dir("layout");
  {
    auto store = CustomerStore::Open(dir.path.string());
    BOOST_REQUIRE(store.ok());
    CustomerProjection projection(*store.value());
    Feed(projection, Story().log);
    BOOST_TEST(!store.value()->LoadOffsets().value().empty());
  }
  {
    // Pretend an older build wrote it.
    auto opened = rocksdb_util::OpenWithLayout(
        dir.path.string(),
        {"default", "heads", "items", "open", "holds", "facts", "late", "snapshots"},
        CustomerStore::kLayoutVersion + 1, "test");
    BOOST_REQUIRE(opened.ok());
    for (auto* h : opened.value().handles) {
      opened.value().db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
  }
  auto reopened = CustomerStore::Open(dir.path.string());
  BOOST_REQUIRE(reopened.ok());
  BOOST_TEST(reopened.value()->LoadOffsets().value().empty());
}

// ---- The integrity gate ----

v1::GetCustomerResponse MustRead(const CustomerStore& store, const std::string& id,
                                 absl::Time now) {
  v1::GetCustomerRequest request;
  request.set_customer_id(id);
  request.set_include_paid_invoices(true);
  auto read = ReadCustomer(store, request, now);
  BOOST_REQUIRE_MESSAGE(read.ok(), (read.ok() ? std::string() : read.error().message));
  return read.value();
}

// A credit memo of 100.00 on INV-4, written as `writer` writes it (its signer and chain) onto
// the story's log: what someone who is not the service would like the customer to show.
std::vector<v1::EventEnvelope> CreditMemo(Writer& writer, const std::string& id,
                                          const std::string& command_id) {
  return writer.Run(For(id, command_id,
                        Adjust("CM-" + command_id, "INV-4",
                               v1::INVOICE_ADJUSTMENT_KIND_CREDIT_MEMO, 10000, "forgiven")),
                    At(2025, 10, 30));
}

BOOST_AUTO_TEST_CASE(a_forged_customer_event_quarantines_the_customer_and_is_not_applied) {
  const authz::SigningKey forger_key = authz::SigningKey::Generate();
  Writer genuine = Story("C-1");
  Writer other = Story("C-2");

  // Each way a record can fail to be the service's own, appended after the genuine history.
  struct Case {
    std::string name, reason;
    std::function<void(std::vector<v1::EventEnvelope>&)> tamper;
    const authz::SigningKey* signer;
  };
  const std::vector<Case> cases = {
      {"another-key", "UNKNOWN_KEY", nullptr, &forger_key},
      {"unsigned", "UNSIGNED", nullptr, nullptr},
      {"changed-contents", "HASH_MISMATCH",
       [](std::vector<v1::EventEnvelope>& events) {
         // The service's own signed event, its amount changed afterwards.
         events.back().mutable_invoice_adjusted()->set_amount_minor(1);
       },
       &WriterKey()},
      {"broken-chain", "CHAIN_BROKEN",
       [](std::vector<v1::EventEnvelope>& events) {
         v1::EventEnvelope& e = events.back();
         e.set_prev_hash(std::string(32, 'x'));
         e.set_hash(ChainHash(e));
         e.clear_signature();
         authz::SignRun(WriterKey(), {&e});  // even signed with the right key
       },
       &WriterKey()},
      {"bad-signature", "BAD_SIGNATURE",
       [&forger_key](std::vector<v1::EventEnvelope>& events) {
         // Claims the writer's key id, signed by another key.
         v1::EventEnvelope& e = events.back();
         const std::string key_id = e.signature().key_id();
         e.clear_signature();
         authz::SignRun(forger_key, {&e});
         e.mutable_signature()->set_key_id(key_id);
       },
       &WriterKey()},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("forged record: " << c.name) {
      Writer forger = genuine;  // the same history, then one record it did not write
      forger.signer = c.signer;
      std::vector<v1::EventEnvelope> forged = CreditMemo(forger, "C-1", "forged");
      BOOST_REQUIRE(forged.size() == 1u);
      if (c.tamper) c.tamper(forged);
      // And a genuine-looking record after it (chained to the forged one): not applied either.
      forger.signer = &WriterKey();
      const std::vector<v1::EventEnvelope> after =
          forger.Run(For("C-1", "after", Payment("P-9", 1000, Date(2025, 10, 31))),
                     At(2025, 10, 31));

      std::vector<v1::EventEnvelope> log;
      for (size_t i = 0; i < std::max(genuine.log.size(), other.log.size()); ++i) {
        if (i < genuine.log.size()) log.push_back(genuine.log[i]);
        if (i < other.log.size()) log.push_back(other.log[i]);
      }
      const size_t forged_offset = log.size();
      log.push_back(forged.back());
      for (const auto& e : after) log.push_back(e);

      Projection clean("clean-" + c.name);
      Feed(*clean.projection, std::vector<v1::EventEnvelope>(log.begin(),
                                                             log.begin() + forged_offset));
      Projection p("forged-" + c.name);
      Feed(*p.projection, log, 3);

      const absl::Time now = At(2025, 11, 15);
      v1::GetCustomerResponse shown = MustRead(*p.store, "C-1", now);
      BOOST_TEST(shown.quarantine().reason() == c.reason);
      BOOST_TEST(shown.quarantine().sequence() == genuine.states["C-1"].version() + 1);
      BOOST_TEST(shown.quarantine().event_id() == forged.back().event_id());
      BOOST_TEST(shown.quarantine().position().offset() == static_cast<int64_t>(forged_offset));
      BOOST_TEST(shown.quarantine().events_not_applied() ==
                 static_cast<int64_t>(1 + after.size()));
      // Otherwise the customer exactly as its genuine history left it: INV-4 still open.
      BOOST_TEST(shown.version() == genuine.states["C-1"].version());
      BOOST_TEST(shown.totals().open_minor() == 985000);
      v1::GetCustomerResponse without = shown;
      without.clear_quarantine();
      BOOST_TEST(without.SerializeAsString() ==
                 MustRead(*clean.store, "C-1", now).SerializeAsString());
      // The statement holds no forged line; the other customer is untouched.
      const auto from = Date(2025, 10, 1), to = Date(2025, 10, 31);
      BOOST_TEST(Statement(*p.store, "C-1", from, to, At(2025, 11, 5)).SerializeAsString() ==
                 Statement(*clean.store, "C-1", from, to, At(2025, 11, 5)).SerializeAsString());
      BOOST_TEST(Document(*p.store, "C-1", from, to, now, v1::REPORT_FORMAT_CSV) ==
                 Document(*clean.store, "C-1", from, to, now, v1::REPORT_FORMAT_CSV));
      BOOST_TEST(!MustRead(*p.store, "C-2", now).has_quarantine());
      BOOST_TEST(MustRead(*p.store, "C-2", now).SerializeAsString() ==
                 MustRead(*clean.store, "C-2", now).SerializeAsString());

      // Rebuilt from offset 0 in one batch: the same bytes as record by record.
      Projection rebuilt("rebuilt-" + c.name);
      Feed(*rebuilt.projection, log);
      Projection one_by_one("one-by-one-" + c.name);
      Feed(*one_by_one.projection, log, 1);
      BOOST_TEST(rebuilt.Digest() == p.Digest());
      BOOST_TEST(one_by_one.Digest() == p.Digest());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_forged_hold_never_reaches_the_shutdown_report) {
  Writer w = Holds();
  Writer forger = w;
  forger.signer = nullptr;  // D on hold, by nobody the service knows
  v1::RecommendCreditHoldRequest recommend;
  recommend.set_hold_id("H-D");
  recommend.set_reason("forged");
  forger.Run(For("D", "recommend", recommend), At(2025, 11, 4));
  Projection p("forged-hold");
  Feed(*p.projection, forger.log, 2);
  auto report = ReadShutdownReport(*p.store, v1::GetShutdownReportRequest(), At(2025, 11, 10));
  BOOST_REQUIRE(report.ok());
  std::vector<std::string> on_hold;
  for (const auto& e : report->entries()) on_hold.push_back(e.customer_id());
  BOOST_TEST(on_hold == (std::vector<std::string>{"A", "B"}), boost::test_tools::per_element());
  const auto d = MustRead(*p.store, "D", At(2025, 11, 10));
  BOOST_TEST(d.quarantine().reason() == "UNSIGNED");
  BOOST_TEST(d.holds_size() == 0);
}

BOOST_AUTO_TEST_CASE(a_command_is_applied_only_once_its_signature_arrives) {
  Writer w;
  w.Run(For("C-3", "open", OpenCustomer("Contoso")), At(2025, 9, 1));
  w.Run(For("C-3", "link", Link("ACC-3")), At(2025, 9, 1, 13));
  w.Run(For("C-3", "inv", Invoice("I-1", "ACC-3", 100000, Date(2025, 9, 1), Date(2025, 9, 30))),
        At(2025, 9, 2));
  w.Run(For("C-3", "inv-2", Invoice("I-2", "ACC-3", 50000, Date(2025, 9, 2), Date(2025, 10, 1))),
        At(2025, 9, 2, 13));
  const size_t before = w.log.size();
  // One command, several events (the payment and where it went); only the last is signed.
  const auto events =
      w.Run(For("C-3", "pay",
                Payment("P-1", 120000, Date(2025, 9, 20),
                        {ToInvoice("I-1", 100000), ToInvoice("I-2", 20000)})),
            At(2025, 9, 20));
  BOOST_REQUIRE(events.size() >= 3u);
  BOOST_REQUIRE(!events.front().has_signature() && events.back().has_signature());
  Projection p("held");
  Feed(*p.projection, std::vector<v1::EventEnvelope>(w.log.begin(), w.log.end() - 1), 1000);
  // Everything but the signed last event: the payment is not shown yet, nor half of it.
  auto held = MustRead(*p.store, "C-3", At(2025, 9, 21));
  BOOST_TEST(held.version() == static_cast<int64_t>(before));
  BOOST_TEST(held.totals().open_minor() == 150000);
  BOOST_TEST(!held.has_quarantine());
  Feed(*p.projection, {w.log.back()}, 1000, static_cast<int64_t>(w.log.size()) - 1);
  auto applied = MustRead(*p.store, "C-3", At(2025, 9, 21));
  BOOST_TEST(applied.version() == static_cast<int64_t>(w.log.size()));
  BOOST_TEST(applied.totals().open_minor() == 30000);
  // The head holds nothing of the command any more.
  auto reader = p.store->NewReader();
  CustomerState head;
  BOOST_REQUIRE(head.ParseFromString(*reader->Get(CustomerStore::Family::kHeads, "C-3").value()));
  BOOST_TEST(head.unsigned_events_size() == 0);
}

BOOST_AUTO_TEST_CASE(a_customer_whose_first_record_is_forged_shows_only_the_quarantine) {
  Writer forger;
  forger.signer = nullptr;
  forger.Run(For("C-X", "open", OpenCustomer("Nobody Opened Me")), At(2025, 9, 1));
  forger.Run(For("C-X", "link", Link("ACC-X")), At(2025, 9, 1, 13));
  forger.Run(For("C-X", "inv", Invoice("I-1", "ACC-X", 100000, Date(2025, 9, 1),
                                       Date(2025, 9, 30))),
             At(2025, 9, 2));
  Projection p("forged-first");
  Feed(*p.projection, forger.log);
  auto shown = MustRead(*p.store, "C-X", At(2025, 10, 15));
  BOOST_TEST(shown.customer_id() == "C-X");
  BOOST_TEST(shown.quarantine().reason() == "UNSIGNED");
  BOOST_TEST(shown.quarantine().sequence() == 1);
  BOOST_TEST(shown.quarantine().events_not_applied() == 3);
  BOOST_TEST(shown.version() == 0);
  BOOST_TEST(shown.name().empty());
  BOOST_TEST(shown.invoices_size() == 0);
  v1::GetCustomerReconciliationRequest statement;
  statement.set_customer_id("C-X");
  *statement.mutable_from() = Date(2025, 9, 1);
  *statement.mutable_to() = Date(2025, 9, 30);
  auto no_statement = ReadReconciliation(*p.store, statement, At(2025, 10, 15));
  BOOST_REQUIRE(!no_statement.ok());
  BOOST_TEST(no_statement.error().reason == "CUSTOMER_NOT_FOUND");
  BOOST_TEST(ReadCustomerWorkQueue(*p.store, v1::GetCustomerWorkQueueRequest(), At(2025, 10, 15))
                 ->items_size() == 0);
}

}  // namespace
}  // namespace collections::customer
