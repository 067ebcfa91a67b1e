#include "projections/customer/customer_reads.h"

#include "projections/customer/customer_ledger.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/customer_aggregate.h"
#include "services/domain/internal.h"
#include "services/domain/limits.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <map>
#include <set>

namespace collections::customer {
namespace {

using Family = CustomerStore::Family;
using internal::SaturatingAdd;
using internal::SaturatingSub;
using internal::ToCivil;
using internal::ToLocalDate;
using internal::ToTime;

Error CorruptRow(const std::string& what) {
  return Error{Errc::kInternal, "CORRUPT_ROW", what + " does not parse", {}, {}};
}

Error NotFound(const std::string& customer_id) {
  return Error{Errc::kNotFound, "CUSTOMER_NOT_FOUND",
               "customer " + Quoted(customer_id) + " has no events (never opened)", "customer_id",
               Truncated(customer_id, kMaxQuotedInput)};
}

// A head row is a customer once a genuine CustomerOpened is applied; before that it holds only
// the integrity gate's bookkeeping (the chain, a held command, a quarantine).
bool IsOpened(const CustomerState& head) { return head.has_opened_at(); }

// Collects field violations; one kInvalidArgument naming every wrong field.
class Violations {
 public:
  void Add(std::string field, std::string message) {
    list_.push_back({std::move(field), std::move(message)});
  }
  Status ToStatus() const {
    if (list_.empty()) return std::nullopt;
    Error e = Error::InvalidArgument(list_.front().field, list_.front().description);
    if (list_.size() > 1) {
      std::string message;
      for (const auto& v : list_) absl::StrAppend(&message, message.empty() ? "" : "; ", v.field,
                                                  ": ", v.description);
      e.message = message;
    }
    e.violations = list_;
    return e;
  }

 private:
  std::vector<FieldViolation> list_;
};

bool ValidDay(const v1::LocalDate& d, absl::CivilDay* day) {
  if (d.year() < 1 || d.year() > 9999) return false;
  *day = absl::CivilDay(d.year(), d.month(), d.day());
  return day->year() == d.year() && day->month() == d.month() && day->day() == d.day();
}

// Customer ids are printable ASCII without spaces (the domain's id rule): anything else can
// name no customer, and must not reach a key.
bool PlausibleId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

template <typename Message>
Result<std::optional<Message>> GetMessage(const CustomerStore::Reader& reader, Family f,
                                          const std::string& key) {
  auto bytes = reader.Get(f, key);
  if (!bytes) return bytes.error();
  if (!bytes.value()) return std::optional<Message>();
  Message m;
  if (!m.ParseFromString(*bytes.value())) return CorruptRow("a customer store row");
  return std::optional<Message>(std::move(m));
}

// Every key of `prefix`: [prefix, prefix with its last byte + 1).
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

template <typename Message>
Status ScanMessages(const CustomerStore::Reader& reader, Family f, const std::string& start,
                    const std::string& limit,
                    const std::function<bool(std::string_view, Message&)>& visit) {
  Status corrupt;
  auto scanned = reader.Scan(f, start, limit, [&](std::string_view key, std::string_view value) {
    Message m;
    if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      corrupt = CorruptRow("a customer store row");
      return false;
    }
    return visit(key, m);
  });
  if (scanned) return scanned;
  return corrupt;
}

// The customer's open invoices, by due date.
Result<std::vector<state::v1::CustomerInvoiceState>> OpenInvoices(
    const CustomerStore::Reader& reader, const std::string& customer_id) {
  std::vector<state::v1::CustomerInvoiceState> out;
  const std::string prefix = OpenInvoicePrefix(customer_id);
  if (auto e = ScanMessages<state::v1::CustomerInvoiceState>(
          reader, Family::kOpen, prefix, PrefixEnd(prefix),
          [&](std::string_view, state::v1::CustomerInvoiceState& i) {
            out.push_back(std::move(i));
            return true;
          })) {
    return *e;
  }
  return out;
}

int32_t InvoiceDaysPastDue(const state::v1::CustomerInvoiceState& i, absl::CivilDay today) {
  if (i.open_minor() <= 0) return 0;
  const int64_t days = today - ToCivil(i.invoice().due_date());
  return static_cast<int32_t>(std::clamp<int64_t>(days, 0, INT32_MAX));
}

// Days past due of the customer today: the domain's rule over its open invoices (the only
// ones it counts).
int32_t CustomerDpd(const std::vector<state::v1::CustomerInvoiceState>& open,
                    absl::CivilDay today) {
  CustomerState s;
  for (const auto& i : open) *s.add_invoices() = i;
  return CustomerDaysPastDue(s, ToLocalDate(today));
}

int64_t PastDue(const std::vector<state::v1::CustomerInvoiceState>& open, absl::CivilDay today) {
  int64_t sum = 0;
  for (const auto& i : open) {
    if (InvoiceDaysPastDue(i, today) > 0) sum = SaturatingAdd(sum, i.open_minor());
  }
  return sum;
}

Result<std::vector<v1::CustomerHold>> ActiveHolds(const CustomerStore::Reader& reader,
                                                  const std::string& customer_id) {
  std::vector<std::string> ids;
  const std::string prefix = CustomerPrefix(customer_id);
  if (auto e = reader.Scan(Family::kHolds, prefix, PrefixEnd(prefix),
                           [&](std::string_view key, std::string_view) {
                             ids.emplace_back(key.substr(prefix.size()));
                             return true;
                           })) {
    return *e;
  }
  std::vector<v1::CustomerHold> holds;
  for (const auto& id : ids) {
    auto hold = GetMessage<v1::CustomerHold>(reader, Family::kItems,
                                             ItemKey(customer_id, kHoldItem, id));
    if (!hold) return hold.error();
    if (hold.value()) holds.push_back(std::move(*hold.value()));
  }
  return holds;
}

v1::CreditHoldStatus StrongestHold(const std::vector<v1::CustomerHold>& holds) {
  v1::CreditHoldStatus status = v1::CREDIT_HOLD_STATUS_UNSPECIFIED;
  for (const auto& h : holds) {
    if (h.status() == v1::CREDIT_HOLD_STATUS_APPROVED) return h.status();
    if (h.status() == v1::CREDIT_HOLD_STATUS_RECOMMENDED) status = h.status();
  }
  return status;
}

v1::CustomerInvoiceView InvoiceView(const state::v1::CustomerInvoiceState& i,
                                    absl::CivilDay today) {
  v1::CustomerInvoiceView v;
  *v.mutable_invoice() = i.invoice();
  v.set_status(!i.open_dispute_id().empty() ? v1::CUSTOMER_INVOICE_STATUS_DISPUTED
               : i.open_minor() > 0         ? v1::CUSTOMER_INVOICE_STATUS_OPEN
                                            : v1::CUSTOMER_INVOICE_STATUS_PAID);
  v.set_open_minor(i.open_minor());
  v.set_paid_minor(i.paid_minor());
  v.set_credited_minor(i.credited_minor());
  v.set_debited_minor(i.debited_minor());
  v.set_open_dispute_id(i.open_dispute_id());
  v.set_in_discrepancy_minor(i.in_discrepancy_minor());
  if (i.open_minor() > 0) {
    v.set_days_past_due(InvoiceDaysPastDue(i, today));
    v.set_aging_bucket(BucketFor(v.days_past_due()));
  }
  return v;
}

// Page tokens of the shutdown report are the last hold key (it holds a '\0') in hex.
std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]), low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

// A page token is the last key's suffix after the customer's prefix: printable ASCII.
bool ValidToken(const std::string& token, char kind) {
  return token.empty() ||
         (token.size() <= 300 && token[0] == kind &&
          std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; }));
}

}  // namespace

Result<v1::GetCustomerResponse> ReadCustomer(const CustomerStore& store,
                                             const v1::GetCustomerRequest& request,
                                             absl::Time now) {
  Violations v;
  if (!PlausibleId(request.customer_id())) {
    v.Add("customer_id", "is required: the customer's id (printable ASCII, no spaces)");
  }
  const int page_size = request.page_size() == 0 ? kDefaultInvoicePage : request.page_size();
  if (page_size < 1 || page_size > kMaxInvoicePage) {
    v.Add("page_size", absl::StrCat("must be 1..", kMaxInvoicePage, " (0 = ",
                                    kDefaultInvoicePage, ")"));
  }
  if (!ValidToken(request.page_token(), kInvoiceItem)) {
    v.Add("page_token", "is not a token a previous GetCustomer returned");
  }
  if (auto e = v.ToStatus()) return *e;

  const std::string& id = request.customer_id();
  auto reader = store.NewReader();
  auto head = GetMessage<CustomerState>(*reader, Family::kHeads, id);
  if (!head) return head.error();
  // A quarantined stream is shown even when no genuine event opened it: the marker is the
  // answer.
  if (!head.value() || (!IsOpened(*head.value()) && !head.value()->has_quarantine())) {
    return NotFound(id);
  }
  const CustomerState& s = *head.value();
  const absl::CivilDay today = DayIn(now, s.time_zone());

  v1::GetCustomerResponse r;
  r.set_customer_id(id);
  // As for an account (GetAccount): the customer as of its last genuine event, and why
  // nothing after it is applied.
  if (s.has_quarantine()) *r.mutable_quarantine() = s.quarantine();
  r.set_kind(s.kind());
  r.set_name(s.name());
  *r.mutable_contacts() = s.contacts();
  r.set_commercial(s.commercial());
  r.set_currency(s.currency());
  r.set_time_zone(s.time_zone());
  r.set_cash_application_rule(s.cash_application_rule());
  r.set_auto_release_hold_when_current(s.auto_release_hold_when_current());
  *r.mutable_opened_at() = s.opened_at();
  r.set_version(s.version());
  *r.mutable_account_ids() = s.account_ids();
  *r.mutable_pending_approvals() = s.pending_approvals();
  *r.mutable_as_of() = internal::ToProto(now);

  auto open = OpenInvoices(*reader, id);
  if (!open) return open.error();
  v1::CustomerTotals* totals = r.mutable_totals();
  std::map<int, v1::CustomerAgingLine> aging;
  for (const auto& i : open.value()) {
    totals->set_open_invoices(totals->open_invoices() + 1);
    const int32_t days = InvoiceDaysPastDue(i, today);
    if (days > 0) totals->set_past_due_minor(SaturatingAdd(totals->past_due_minor(), i.open_minor()));
    if (!i.open_dispute_id().empty()) {
      totals->set_disputed_minor(SaturatingAdd(totals->disputed_minor(), i.open_minor()));
    }
    totals->set_in_discrepancy_minor(
        SaturatingAdd(totals->in_discrepancy_minor(), i.in_discrepancy_minor()));
    const v1::AgingBucket bucket = BucketFor(days);
    auto& line = aging[bucket];
    line.set_bucket(bucket);
    line.set_invoices(line.invoices() + 1);
    line.set_open_minor(SaturatingAdd(line.open_minor(), i.open_minor()));
  }
  for (auto& [bucket, line] : aging) *r.add_aging() = std::move(line);
  totals->set_open_minor(s.open_total_minor());
  totals->set_unapplied_cash_minor(s.unapplied_cash_minor());
  totals->set_exposure_minor(CustomerExposure(s));
  totals->set_credit_limit_minor(s.credit_limit_minor());
  totals->set_available_credit_minor(SaturatingSub(s.credit_limit_minor(), CustomerExposure(s)));
  r.set_days_past_due(CustomerDpd(open.value(), today));

  const std::string discrepancies = OpenDiscrepancyPrefix(id);
  if (auto e = ScanMessages<v1::CustomerDiscrepancyView>(
          *reader, Family::kOpen, discrepancies, PrefixEnd(discrepancies),
          [&](std::string_view, v1::CustomerDiscrepancyView& d) {
            *r.add_open_discrepancies() = std::move(d);
            return true;
          })) {
    return *e;
  }
  auto holds = ActiveHolds(*reader, id);
  if (!holds) return holds.error();
  r.set_hold_status(StrongestHold(holds.value()));
  for (auto& h : holds.value()) *r.add_holds() = std::move(h);

  // One page of invoices: the open ones by due date (the open index), or all by invoice id.
  const std::string prefix = CustomerPrefix(id);
  const Family family = request.include_paid_invoices() ? Family::kItems : Family::kOpen;
  const std::string first = prefix + kInvoiceItem;
  // After the token's key: the next key is the token's with a '\0' appended.
  const std::string start =
      request.page_token().empty() ? first : prefix + request.page_token() + std::string(1, '\0');
  std::string last_key;
  bool more = false;
  if (auto e = ScanMessages<state::v1::CustomerInvoiceState>(
          *reader, family, start, PrefixEnd(first),
          [&](std::string_view key, state::v1::CustomerInvoiceState& i) {
            if (r.invoices_size() == page_size) {
              more = true;
              return false;
            }
            *r.add_invoices() = InvoiceView(i, today);
            last_key = std::string(key.substr(prefix.size()));
            return true;
          })) {
    return *e;
  }
  if (more) r.set_next_page_token(last_key);
  return r;
}

Result<v1::GetCustomerReconciliationResponse> ReadReconciliation(
    const CustomerStore& store, const v1::GetCustomerReconciliationRequest& request,
    absl::Time now) {
  Violations v;
  if (!PlausibleId(request.customer_id())) {
    v.Add("customer_id", "is required: the customer's id (printable ASCII, no spaces)");
  }
  absl::CivilDay from, to;
  const bool from_ok = ValidDay(request.from(), &from);
  const bool to_ok = ValidDay(request.to(), &to);
  if (!from_ok) v.Add("from", "is required: a calendar date (the period's first business date)");
  if (!to_ok) v.Add("to", "is required: a calendar date (the period's last business date)");
  if (from_ok && to_ok) {
    if (to < from) v.Add("to", "is before from");
    else if (to - from + 1 > kMaxStatementDays) {
      v.Add("to", absl::StrCat("the period is ", to - from + 1, " days; at most ",
                               kMaxStatementDays, " (ask for shorter periods)"));
    }
  }
  absl::Time known_at = now;
  if (request.has_as_known_at()) {
    const auto& ts = request.as_known_at();
    if (ts.seconds() < 0 || ts.seconds() > 253402300799 || ts.nanos() < 0 ||
        ts.nanos() > 999999999) {
      v.Add("as_known_at", "must be an instant between 1970 and 9999");
    } else {
      known_at = ToTime(ts);
    }
  }
  if (!v1::ReportFormat_IsValid(request.format())) {
    v.Add("format", "must be PROTO, CSV or HTML");
  }
  if (auto e = v.ToStatus()) return *e;

  const std::string& id = request.customer_id();
  auto reader = store.NewReader();
  auto head = GetMessage<CustomerState>(*reader, Family::kHeads, id);
  if (!head) return head.error();
  if (!head.value() || !IsOpened(*head.value())) return NotFound(id);

  StatementInput input;
  input.head = std::move(*head.value());
  const std::string& zone = input.head.time_zone();
  input.base_date = StatementBaseDate(from, known_at, zone);
  const std::string prefix = CustomerPrefix(id);
  auto base = reader->Floor(Family::kSnapshots, SnapshotKey(id, input.base_date), prefix);
  if (!base) return base.error();
  if (base.value() && !input.base.ParseFromString(base.value()->second)) {
    return CorruptRow("a customer snapshot row");
  }
  Status too_large;
  auto collect = [&](std::string_view, v1::CustomerStatementLine& line) {
    if (static_cast<int>(input.lines.size()) >= kMaxStatementLines) {
      too_large = Error{Errc::kFailedPrecondition, "STATEMENT_TOO_LARGE",
                        absl::StrCat("the statement would read more than ", kMaxStatementLines,
                                     " ledger lines; ask for a shorter period"),
                        "to", id};
      return false;
    }
    input.lines.push_back(std::move(line));
    return true;
  };
  // Lines dated after the snapshot, up to the period's end.
  if (auto e = ScanMessages<v1::CustomerStatementLine>(*reader, Family::kFacts,
                                                       LineKey(id, input.base_date + 1, 0),
                                                       LineKey(id, to + 1, 0), collect)) {
    return *e;
  }
  if (too_large) return *too_large;
  // Lines dated on or before it that it does not hold: recorded after it, by known_at.
  const absl::CivilDay known_day = DayIn(known_at, zone);
  if (known_day > input.base_date) {
    if (auto e = ScanMessages<v1::CustomerStatementLine>(
            *reader, Family::kLate, LineKey(id, input.base_date + 1, 0),
            LineKey(id, known_day + 1, 0), [&](std::string_view key, v1::CustomerStatementLine& l) {
              if (ToCivil(l.business_date()) > input.base_date) return true;
              return collect(key, l);
            })) {
      return *e;
    }
    if (too_large) return *too_large;
  }
  // The open items' invoices: the statement names them as they were recorded (they never
  // change after).
  v1::CustomerReconciliation draft = BuildReconciliation(input, from, to, known_at);
  for (const auto& item : draft.open_items()) {
    const std::string& invoice_id = item.invoice().invoice_id();
    auto row = GetMessage<state::v1::CustomerInvoiceState>(
        *reader, Family::kItems, ItemKey(id, kInvoiceItem, invoice_id));
    if (!row) return row.error();
    if (row.value()) input.invoices.emplace(invoice_id, row.value()->invoice());
  }
  v1::GetCustomerReconciliationResponse response;
  v1::CustomerReconciliation statement = BuildReconciliation(input, from, to, known_at);
  const std::string base_name = absl::StrCat("statement-", id, "-", DateText(statement.from()),
                                             "-", DateText(statement.to()));
  switch (request.format()) {
    case v1::REPORT_FORMAT_CSV:
      response.set_content_type("text/csv; charset=utf-8");
      response.set_document(ReconciliationCsv(statement));
      response.set_file_name(base_name + ".csv");
      break;
    case v1::REPORT_FORMAT_HTML:
      response.set_content_type("text/html; charset=utf-8");
      response.set_document(ReconciliationHtml(statement));
      response.set_file_name(base_name + ".html");
      break;
    default:
      *response.mutable_statement() = std::move(statement);
      break;
  }
  return response;
}

Result<v1::GetShutdownReportResponse> ReadShutdownReport(
    const CustomerStore& store, const v1::GetShutdownReportRequest& request, absl::Time now) {
  Violations v;
  const int page_size = request.page_size() == 0 ? kDefaultShutdownPage : request.page_size();
  if (page_size < 1 || page_size > kMaxShutdownPage) {
    v.Add("page_size", absl::StrCat("must be 1..", kMaxShutdownPage, " (0 = ",
                                    kDefaultShutdownPage, ")"));
  }
  std::string after;
  if (!request.page_token().empty() &&
      (request.page_token().size() > 1000 ||
       !Unhex(request.page_token(), &after) || after.empty())) {
    v.Add("page_token", "is not a token a previous GetShutdownReport returned");
  }
  if (!v1::ReportFormat_IsValid(request.format())) v.Add("format", "must be PROTO, CSV or HTML");
  if (auto e = v.ToStatus()) return *e;

  auto reader = store.NewReader();
  std::vector<std::string> keys;
  bool more = false;
  const std::string start = after.empty() ? std::string() : after + std::string(1, '\0');
  if (auto e = reader->Scan(Family::kHolds, start, "", [&](std::string_view key, std::string_view) {
        if (static_cast<int>(keys.size()) == page_size) {
          more = true;
          return false;
        }
        keys.emplace_back(key);
        return true;
      })) {
    return *e;
  }
  v1::GetShutdownReportResponse r;
  *r.mutable_as_of() = internal::ToProto(now);
  // Per customer (its holds are adjacent): head and open invoices read once.
  std::string current;
  std::optional<CustomerState> head;
  std::vector<state::v1::CustomerInvoiceState> open;
  for (const auto& key : keys) {
    const size_t zero = key.find('\0');
    if (zero == std::string::npos) return CorruptRow("a customer hold index key");
    const std::string customer_id = key.substr(0, zero);
    const std::string hold_id = key.substr(zero + 1);
    if (customer_id != current) {
      current = customer_id;
      auto h = GetMessage<CustomerState>(*reader, Family::kHeads, customer_id);
      if (!h) return h.error();
      head = std::move(h.value());
      auto o = OpenInvoices(*reader, customer_id);
      if (!o) return o.error();
      open = std::move(o.value());
    }
    if (!head || !IsOpened(*head)) continue;
    auto hold = GetMessage<v1::CustomerHold>(*reader, Family::kItems,
                                             ItemKey(customer_id, kHoldItem, hold_id));
    if (!hold) return hold.error();
    if (!hold.value()) continue;
    const absl::CivilDay today = DayIn(now, head->time_zone());
    v1::ShutdownReportEntry* entry = r.add_entries();
    entry->set_customer_id(customer_id);
    entry->set_name(head->name());
    entry->set_currency(head->currency());
    *entry->mutable_hold() = std::move(*hold.value());
    entry->set_exposure_minor(CustomerExposure(*head));
    entry->set_days_past_due(CustomerDpd(open, today));
    entry->set_credit_limit_minor(head->credit_limit_minor());
    entry->set_past_due_minor(PastDue(open, today));
  }
  if (more && !keys.empty()) r.set_next_page_token(Hex(keys.back()));
  if (request.format() == v1::REPORT_FORMAT_CSV) {
    r.set_content_type("text/csv; charset=utf-8");
    r.set_document(ShutdownReportCsv(r));
  } else if (request.format() == v1::REPORT_FORMAT_HTML) {
    r.set_content_type("text/html; charset=utf-8");
    r.set_document(ShutdownReportHtml(r));
  }
  return r;
}

Result<v1::GetCustomerWorkQueueResponse> ReadCustomerWorkQueue(
    const CustomerStore& store, const v1::GetCustomerWorkQueueRequest& request, absl::Time now) {
  const int limit = request.limit() == 0 ? kDefaultWorkQueue : request.limit();
  if (limit < 1 || limit > kMaxWorkQueue) {
    return Error::InvalidArgument("limit", absl::StrCat("must be 1..", kMaxWorkQueue, " (0 = ",
                                                        kDefaultWorkQueue, ")"));
  }
  auto reader = store.NewReader();
  std::vector<CustomerState> owing;
  if (auto e = ScanMessages<CustomerState>(*reader, Family::kHeads, "", "",
                                           [&](std::string_view, CustomerState& s) {
                                             if (IsOpened(s) && CustomerExposure(s) > 0) {
                                               owing.push_back(std::move(s));
                                             }
                                             return true;
                                           })) {
    return *e;
  }
  std::vector<v1::CustomerWorkItem> items;
  for (const auto& s : owing) {
    const absl::CivilDay today = DayIn(now, s.time_zone());
    // The oldest delinquent invoice decides; the open index is by due date, so it is the
    // first one the domain's rule counts (disputed ones and amounts in discrepancy are not
    // delinquent).
    int32_t days = 0;
    const std::string prefix = OpenInvoicePrefix(s.customer_id());
    if (auto e = ScanMessages<state::v1::CustomerInvoiceState>(
            *reader, Family::kOpen, prefix, PrefixEnd(prefix),
            [&](std::string_view, state::v1::CustomerInvoiceState& i) {
              if (!i.open_dispute_id().empty() || i.open_minor() - i.in_discrepancy_minor() <= 0) {
                return true;
              }
              days = InvoiceDaysPastDue(i, today);
              return false;
            })) {
      return *e;
    }
    if (days <= 0) continue;
    auto holds = ActiveHolds(*reader, s.customer_id());
    if (!holds) return holds.error();
    v1::CustomerWorkItem item;
    item.set_customer_id(s.customer_id());
    item.set_name(s.name());
    item.set_currency(s.currency());
    item.set_exposure_minor(CustomerExposure(s));
    item.set_days_past_due(days);
    int64_t priority = 0;
    if (__builtin_mul_overflow(item.exposure_minor(), static_cast<int64_t>(days), &priority)) {
      priority = INT64_MAX;
    }
    item.set_priority(priority);
    item.set_hold_status(StrongestHold(holds.value()));
    items.push_back(std::move(item));
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    if (a.priority() != b.priority()) return a.priority() > b.priority();
    return a.customer_id() < b.customer_id();
  });
  v1::GetCustomerWorkQueueResponse r;
  *r.mutable_as_of() = internal::ToProto(now);
  for (size_t i = 0; i < items.size() && static_cast<int>(i) < limit; ++i) {
    *r.add_items() = std::move(items[i]);
  }
  return r;
}

}  // namespace collections::customer
