#include "projections/customer/customer_ledger.h"

#include "services/common/csv.h"
#include "services/common/html.h"
#include "services/common/time_zone.h"
#include "services/domain/currency.h"
#include "services/domain/internal.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <climits>
#include <tuple>

namespace collections::customer {
namespace {

using internal::SaturatingAdd;
using internal::SaturatingSub;
using internal::ToCivil;
using internal::ToLocalDate;
using internal::ToTime;

// "STATEMENT_LINE_KIND_PAYMENT_APPLIED" -> "payment_applied".
std::string EnumText(const std::string& name, const std::string& prefix) {
  std::string text = name.starts_with(prefix) ? name.substr(prefix.size()) : name;
  return absl::AsciiStrToLower(text);
}

std::string KindText(v1::StatementLineKind kind) {
  return EnumText(v1::StatementLineKind_Name(kind), "STATEMENT_LINE_KIND_");
}

std::string RuleText(v1::CashApplicationRule rule) {
  switch (rule) {
    case v1::CASH_APPLICATION_RULE_PRO_RATA:
      return "pro rata";
    default:
      return "oldest first";
  }
}

std::string Rfc3339(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", ToTime(ts), absl::UTCTimeZone());
}

// Minor units as a decimal amount in the currency's exponent ("-1234" USD -> "-12.34").
std::string Amount(int64_t minor, const std::string& currency) {
  const int exponent = CurrencyExponent(currency).value_or(2);
  if (exponent == 0) return absl::StrCat(minor);
  const bool negative = minor < 0;
  // Through uint64 so INT64_MIN has a magnitude.
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(minor) : minor;
  uint64_t scale = 1;
  for (int i = 0; i < exponent; ++i) scale *= 10;
  return absl::StrFormat("%s%d.%0*d", negative ? "-" : "", magnitude / scale, exponent,
                         magnitude % scale);
}

void AppendRow(const std::vector<std::string>& cells, std::string* out) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append(CsvCell(cells[i]));
  }
  out->push_back('\n');
}

constexpr const char* kStyle =
    "body{font-family:Helvetica,Arial,sans-serif;font-size:11pt;color:#111;margin:2em}"
    "h1{font-size:16pt;margin:0 0 .3em}h2{font-size:12pt;margin:1.4em 0 .4em}"
    "table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ccc;"
    "padding:3px 6px;text-align:left;vertical-align:top}td.num,th.num{text-align:right;"
    "white-space:nowrap}.facts td{border:none;padding:1px 12px 1px 0}"
    "tr.total td{font-weight:bold;border-top:2px solid #111}"
    "@media print{body{margin:0}tr{page-break-inside:avoid}}";

}  // namespace

std::string DateText(const v1::LocalDate& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

absl::CivilDay DayIn(absl::Time t, const std::string& zone_name) {
  absl::TimeZone zone;
  if (!LoadIanaTimeZone(zone_name, &zone)) zone = absl::UTCTimeZone();
  return absl::ToCivilDay(t, zone);
}

absl::CivilDay MonthEnd(absl::CivilDay day) {
  return absl::CivilDay(absl::CivilMonth(day) + 1) - 1;
}

absl::CivilDay MonthEndOnOrBefore(absl::CivilDay day) {
  return MonthEnd(day) == day ? day : absl::CivilDay(absl::CivilMonth(day)) - 1;
}

std::optional<v1::CustomerStatementLine> LedgerLine(
    const v1::EventEnvelope& e, const std::string& zone,
    const state::v1::CustomerInvoiceState* invoice,
    const state::v1::CustomerDiscrepancyState* discrepancy) {
  v1::CustomerStatementLine line;
  auto set_invoice = [&](const std::string& invoice_id) {
    line.set_invoice_id(invoice_id);
    if (invoice != nullptr && invoice->invoice().invoice_id() == invoice_id) {
      line.set_invoice_number(invoice->invoice().number());
      line.set_account_id(invoice->invoice().account_id());
    }
  };
  switch (e.payload_case()) {
    case v1::EventEnvelope::kInvoiceRecorded: {
      const v1::Invoice& i = e.invoice_recorded().invoice();
      line.set_kind(v1::STATEMENT_LINE_KIND_INVOICE);
      line.set_invoice_id(i.invoice_id());
      line.set_invoice_number(i.number());
      line.set_account_id(i.account_id());
      line.set_amount_minor(i.amount().amount_minor());
      line.set_balance_change_minor(i.amount().amount_minor());
      line.set_detail(absl::StrCat("dated ", DateText(i.invoice_date()), ", due ",
                                   DateText(i.due_date())));
      break;
    }
    case v1::EventEnvelope::kCustomerPaymentReceived: {
      const auto& p = e.customer_payment_received();
      line.set_kind(v1::STATEMENT_LINE_KIND_PAYMENT);
      line.set_payment_id(p.payment_id());
      line.set_reference(p.payer_reference());
      line.set_amount_minor(p.amount().amount_minor());
      line.set_balance_change_minor(SaturatingSub(0, p.amount().amount_minor()));
      line.set_detail(absl::StrCat(
          "received ", DateText(p.received_date()), ", ",
          EnumText(v1::PaymentMethod_Name(p.method()), "PAYMENT_METHOD_"),
          p.duplicate_of_payment_id().empty()
              ? std::string()
              : absl::StrCat(", duplicate of ", p.duplicate_of_payment_id())));
      break;
    }
    case v1::EventEnvelope::kPaymentApplied: {
      const auto& a = e.payment_applied();
      line.set_kind(v1::STATEMENT_LINE_KIND_PAYMENT_APPLIED);
      line.set_payment_id(a.payment_id());
      set_invoice(a.invoice_id());
      if (line.account_id().empty()) line.set_account_id(a.account_id());
      line.set_amount_minor(a.amount_minor());
      line.set_detail(a.directed() ? "directed by the payer" : RuleText(a.rule()));
      break;
    }
    case v1::EventEnvelope::kUnappliedCashRecorded: {
      const auto& u = e.unapplied_cash_recorded();
      line.set_kind(v1::STATEMENT_LINE_KIND_UNAPPLIED_CASH);
      line.set_payment_id(u.payment_id());
      line.set_amount_minor(u.amount_minor());
      line.set_detail("held as unapplied cash");
      break;
    }
    case v1::EventEnvelope::kUnappliedCashApplied: {
      const auto& u = e.unapplied_cash_applied();
      line.set_kind(v1::STATEMENT_LINE_KIND_UNAPPLIED_CASH_APPLIED);
      line.set_reference(u.application_id());
      line.set_amount_minor(u.amount_minor());
      line.set_detail("unapplied cash applied");
      break;
    }
    case v1::EventEnvelope::kInvoiceAdjusted: {
      const auto& a = e.invoice_adjusted();
      const bool debit = a.kind() == v1::INVOICE_ADJUSTMENT_KIND_DEBIT_MEMO;
      line.set_kind(debit ? v1::STATEMENT_LINE_KIND_DEBIT_MEMO
                          : v1::STATEMENT_LINE_KIND_CREDIT_MEMO);
      set_invoice(a.invoice_id());
      if (line.account_id().empty()) line.set_account_id(a.account_id());
      line.set_reference(a.adjustment_id());
      line.set_amount_minor(a.amount_minor());
      line.set_balance_change_minor(debit ? a.amount_minor() : SaturatingSub(0, a.amount_minor()));
      line.set_detail(a.discrepancy_id().empty()
                          ? a.reason()
                          : absl::StrCat(a.reason(), " (discrepancy ", a.discrepancy_id(), ")"));
      break;
    }
    case v1::EventEnvelope::kDuplicatePaymentRefunded: {
      const auto& r = e.duplicate_payment_refunded();
      line.set_kind(v1::STATEMENT_LINE_KIND_DUPLICATE_REFUND);
      line.set_payment_id(r.payment_id());
      line.set_reference(r.refund_id());
      line.set_amount_minor(r.amount().amount_minor());
      line.set_balance_change_minor(r.amount().amount_minor());
      line.set_detail(absl::StrCat("refund of a duplicate of ", r.duplicate_of_payment_id()));
      break;
    }
    case v1::EventEnvelope::kShortPaymentDiscrepancyOpened: {
      const auto& d = e.short_payment_discrepancy_opened();
      line.set_kind(v1::STATEMENT_LINE_KIND_DISCREPANCY_OPENED);
      line.set_payment_id(d.payment_id());
      set_invoice(d.invoice_id());
      if (line.account_id().empty()) line.set_account_id(d.account_id());
      line.set_reference(d.discrepancy_id());
      line.set_amount_minor(d.amount_minor());
      std::string detail = EnumText(v1::ShortPaymentReason_Name(d.reason()),
                                    "SHORT_PAYMENT_REASON_");
      if (!d.note().empty()) absl::StrAppend(&detail, ": ", d.note());
      line.set_detail(detail);
      break;
    }
    case v1::EventEnvelope::kShortPaymentDiscrepancyResolved: {
      const auto& r = e.short_payment_discrepancy_resolved();
      line.set_kind(v1::STATEMENT_LINE_KIND_DISCREPANCY_RESOLVED);
      line.set_reference(r.discrepancy_id());
      if (discrepancy != nullptr) {
        line.set_payment_id(discrepancy->payment_id());
        set_invoice(discrepancy->invoice_id());
        line.set_amount_minor(discrepancy->amount_minor());
      }
      std::string detail = EnumText(v1::DiscrepancyResolution_Name(r.resolution()),
                                    "DISCREPANCY_RESOLUTION_");
      if (!r.note().empty()) absl::StrAppend(&detail, ": ", r.note());
      line.set_detail(detail);
      break;
    }
    case v1::EventEnvelope::kInvoiceDisputed:
      line.set_kind(v1::STATEMENT_LINE_KIND_INVOICE_DISPUTED);
      set_invoice(e.invoice_disputed().invoice_id());
      line.set_reference(e.invoice_disputed().dispute_id());
      line.set_detail(e.invoice_disputed().reason());
      break;
    case v1::EventEnvelope::kInvoiceDisputeResolved:
      line.set_kind(v1::STATEMENT_LINE_KIND_INVOICE_DISPUTE_RESOLVED);
      set_invoice(e.invoice_dispute_resolved().invoice_id());
      line.set_reference(e.invoice_dispute_resolved().dispute_id());
      line.set_detail(e.invoice_dispute_resolved().resolution());
      break;
    default:
      return std::nullopt;
  }
  line.set_sequence(e.sequence());
  *line.mutable_business_date() = ToLocalDate(DayIn(ToTime(e.occurred_at()), zone));
  *line.mutable_recorded_at() = e.recorded_at();
  return line;
}

void FoldLine(LedgerSnapshot& snapshot, const v1::CustomerStatementLine& line) {
  snapshot.set_balance_minor(SaturatingAdd(snapshot.balance_minor(), line.balance_change_minor()));
  int64_t open_change = 0;
  int32_t dispute_change = 0;
  switch (line.kind()) {
    case v1::STATEMENT_LINE_KIND_INVOICE:
    case v1::STATEMENT_LINE_KIND_DEBIT_MEMO:
      open_change = line.amount_minor();
      break;
    case v1::STATEMENT_LINE_KIND_PAYMENT_APPLIED:
    case v1::STATEMENT_LINE_KIND_CREDIT_MEMO:
      open_change = SaturatingSub(0, line.amount_minor());
      break;
    case v1::STATEMENT_LINE_KIND_UNAPPLIED_CASH:
      snapshot.set_unapplied_cash_minor(
          SaturatingAdd(snapshot.unapplied_cash_minor(), line.amount_minor()));
      return;
    case v1::STATEMENT_LINE_KIND_UNAPPLIED_CASH_APPLIED:
      snapshot.set_unapplied_cash_minor(
          SaturatingSub(snapshot.unapplied_cash_minor(), line.amount_minor()));
      return;
    case v1::STATEMENT_LINE_KIND_INVOICE_DISPUTED:
      dispute_change = 1;
      break;
    case v1::STATEMENT_LINE_KIND_INVOICE_DISPUTE_RESOLVED:
      dispute_change = -1;
      break;
    default:
      return;
  }
  if (line.invoice_id().empty()) return;
  auto* items = snapshot.mutable_items();
  auto it = std::lower_bound(items->begin(), items->end(), line.invoice_id(),
                             [](const state::v1::CustomerLedgerItem& item, const std::string& id) {
                               return item.invoice_id() < id;
                             });
  int index = static_cast<int>(it - items->begin());
  if (it == items->end() || it->invoice_id() != line.invoice_id()) {
    state::v1::CustomerLedgerItem item;
    item.set_invoice_id(line.invoice_id());
    items->Add(std::move(item));
    // Rotate the new last element into its sorted place.
    for (int i = items->size() - 1; i > index; --i) items->SwapElements(i, i - 1);
  }
  auto& item = *items->Mutable(index);
  item.set_open_minor(SaturatingAdd(item.open_minor(), open_change));
  item.set_open_disputes(item.open_disputes() + dispute_change);
  if (item.open_minor() == 0 && item.open_disputes() == 0) items->DeleteSubrange(index, 1);
}

absl::CivilDay FoldIntoSnapshots(std::map<absl::CivilDay, LedgerSnapshot>& snapshots,
                                 const v1::CustomerStatementLine& line,
                                 absl::CivilDay recorded_day) {
  const absl::CivilDay from = MonthEnd(std::max(ToCivil(line.business_date()), recorded_day));
  if (!snapshots.contains(from)) {
    auto before = snapshots.lower_bound(from);
    LedgerSnapshot start =
        before == snapshots.begin() ? LedgerSnapshot() : std::prev(before)->second;
    snapshots.emplace(from, std::move(start));
  }
  for (auto it = snapshots.find(from); it != snapshots.end(); ++it) FoldLine(it->second, line);
  return from;
}

absl::CivilDay StatementBaseDate(absl::CivilDay from, absl::Time known_at,
                                 const std::string& zone) {
  // A snapshot at C holds lines recorded by the end of C: C must have ended by known_at.
  return MonthEndOnOrBefore(std::min(from - 1, DayIn(known_at, zone) - 1));
}

v1::CustomerReconciliation BuildReconciliation(const StatementInput& input, absl::CivilDay from,
                                               absl::CivilDay to, absl::Time known_at) {
  v1::CustomerReconciliation r;
  const auto& head = input.head;
  r.set_customer_id(head.customer_id());
  r.set_name(head.name());
  r.set_currency(head.currency());
  r.set_time_zone(head.time_zone());
  *r.mutable_from() = ToLocalDate(from);
  *r.mutable_to() = ToLocalDate(to);
  *r.mutable_as_known_at() = internal::ToProto(known_at);

  // Known lines dated on or before `to`, by business date then sequence.
  std::vector<const v1::CustomerStatementLine*> known;
  for (const auto& line : input.lines) {
    if (ToTime(line.recorded_at()) > known_at) continue;
    if (ToCivil(line.business_date()) > to) continue;
    known.push_back(&line);
  }
  std::sort(known.begin(), known.end(), [](const auto* a, const auto* b) {
    const absl::CivilDay da = ToCivil(a->business_date()), db = ToCivil(b->business_date());
    if (da != db) return da < db;
    return a->sequence() < b->sequence();
  });

  LedgerSnapshot opening = input.base;
  LedgerSnapshot closing;
  for (const auto* line : known) {
    if (ToCivil(line->business_date()) < from) FoldLine(opening, *line);
  }
  closing = opening;
  int64_t balance = opening.balance_minor();
  r.set_opening_balance_minor(balance);
  for (const auto* line : known) {
    if (ToCivil(line->business_date()) < from) continue;
    FoldLine(closing, *line);
    balance = SaturatingAdd(balance, line->balance_change_minor());
    v1::CustomerStatementLine* out = r.add_lines();
    *out = *line;
    out->set_balance_after_minor(balance);
    switch (line->kind()) {
      case v1::STATEMENT_LINE_KIND_INVOICE:
        r.set_invoiced_minor(SaturatingAdd(r.invoiced_minor(), line->amount_minor()));
        break;
      case v1::STATEMENT_LINE_KIND_PAYMENT:
        r.set_payments_minor(SaturatingAdd(r.payments_minor(), line->amount_minor()));
        break;
      case v1::STATEMENT_LINE_KIND_CREDIT_MEMO:
        r.set_credit_memos_minor(SaturatingAdd(r.credit_memos_minor(), line->amount_minor()));
        break;
      case v1::STATEMENT_LINE_KIND_DEBIT_MEMO:
        r.set_debit_memos_minor(SaturatingAdd(r.debit_memos_minor(), line->amount_minor()));
        break;
      case v1::STATEMENT_LINE_KIND_DUPLICATE_REFUND:
        r.set_refunds_minor(SaturatingAdd(r.refunds_minor(), line->amount_minor()));
        break;
      default:
        break;
    }
  }
  r.set_closing_balance_minor(closing.balance_minor());
  r.set_unapplied_cash_minor(closing.unapplied_cash_minor());

  std::vector<v1::CustomerOpenItem> items;
  int64_t open_total = 0;
  for (const auto& item : closing.items()) {
    if (item.open_minor() == 0) continue;
    v1::CustomerOpenItem open;
    auto it = input.invoices.find(item.invoice_id());
    if (it != input.invoices.end()) {
      *open.mutable_invoice() = it->second;
    } else {
      open.mutable_invoice()->set_invoice_id(item.invoice_id());
    }
    open.set_open_minor(item.open_minor());
    open.set_disputed(item.open_disputes() > 0);
    if (open.invoice().has_due_date()) {
      const int64_t days = to - ToCivil(open.invoice().due_date());
      open.set_days_past_due(static_cast<int32_t>(std::clamp<int64_t>(days, 0, INT32_MAX)));
    }
    open_total = SaturatingAdd(open_total, item.open_minor());
    items.push_back(std::move(open));
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    const auto key = [](const v1::CustomerOpenItem& i) {
      const auto& d = i.invoice().due_date();
      return std::make_tuple(d.year(), d.month(), d.day());
    };
    if (key(a) != key(b)) return key(a) < key(b);
    return a.invoice().invoice_id() < b.invoice().invoice_id();
  });
  for (auto& item : items) *r.add_open_items() = std::move(item);
  r.set_open_items_minor(open_total);
  return r;
}

std::string ReconciliationCsv(const v1::CustomerReconciliation& s) {
  std::string out;
  const std::string exponent = absl::StrCat(CurrencyExponent(s.currency()).value_or(2));
  AppendRow({"field", "value"}, &out);
  AppendRow({"customer_id", s.customer_id()}, &out);
  AppendRow({"name", s.name()}, &out);
  AppendRow({"currency", s.currency()}, &out);
  AppendRow({"currency_exponent", exponent}, &out);
  AppendRow({"from", DateText(s.from())}, &out);
  AppendRow({"to", DateText(s.to())}, &out);
  AppendRow({"as_known_at", Rfc3339(s.as_known_at())}, &out);
  AppendRow({"opening_balance_minor", absl::StrCat(s.opening_balance_minor())}, &out);
  AppendRow({"invoiced_minor", absl::StrCat(s.invoiced_minor())}, &out);
  AppendRow({"payments_minor", absl::StrCat(s.payments_minor())}, &out);
  AppendRow({"credit_memos_minor", absl::StrCat(s.credit_memos_minor())}, &out);
  AppendRow({"debit_memos_minor", absl::StrCat(s.debit_memos_minor())}, &out);
  AppendRow({"refunds_minor", absl::StrCat(s.refunds_minor())}, &out);
  AppendRow({"closing_balance_minor", absl::StrCat(s.closing_balance_minor())}, &out);
  AppendRow({"open_items_minor", absl::StrCat(s.open_items_minor())}, &out);
  AppendRow({"unapplied_cash_minor", absl::StrCat(s.unapplied_cash_minor())}, &out);
  out.push_back('\n');
  AppendRow({"business_date", "sequence", "kind", "invoice_id", "invoice_number", "account_id",
             "payment_id", "reference", "amount_minor", "balance_change_minor",
             "balance_after_minor", "recorded_at", "detail"},
            &out);
  for (const auto& l : s.lines()) {
    AppendRow({DateText(l.business_date()), absl::StrCat(l.sequence()), KindText(l.kind()),
               l.invoice_id(), l.invoice_number(), l.account_id(), l.payment_id(), l.reference(),
               absl::StrCat(l.amount_minor()), absl::StrCat(l.balance_change_minor()),
               absl::StrCat(l.balance_after_minor()), Rfc3339(l.recorded_at()), l.detail()},
              &out);
  }
  out.push_back('\n');
  AppendRow({"open_invoice_id", "invoice_number", "account_id", "invoice_date", "due_date",
             "amount_minor", "open_minor", "days_past_due", "disputed"},
            &out);
  for (const auto& i : s.open_items()) {
    AppendRow({i.invoice().invoice_id(), i.invoice().number(), i.invoice().account_id(),
               DateText(i.invoice().invoice_date()), DateText(i.invoice().due_date()),
               absl::StrCat(i.invoice().amount().amount_minor()), absl::StrCat(i.open_minor()),
               absl::StrCat(i.days_past_due()), i.disputed() ? "true" : "false"},
              &out);
  }
  return out;
}

std::string ReconciliationHtml(const v1::CustomerReconciliation& s) {
  const std::string& cur = s.currency();
  auto money = [&](int64_t minor) { return HtmlEscape(Amount(minor, cur)); };
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
      "Statement of account ",
      HtmlEscape(s.customer_id()), " ", DateText(s.from()), " to ", DateText(s.to()),
      "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<main data-customer=\"",
      HtmlEscape(s.customer_id()), "\" data-lines=\"", s.lines_size(), "\" data-open-items=\"",
      s.open_items_size(), "\">\n<h1>Statement of account</h1>\n<table class=\"facts\">\n");
  auto fact = [&](const std::string& label, const std::string& value, const std::string& data) {
    absl::StrAppend(&html, "<tr><td>", label, "</td><td", data.empty() ? "" : " data-field=\"",
                    data, data.empty() ? "" : "\"", ">", value, "</td></tr>\n");
  };
  fact("Customer", HtmlEscape(absl::StrCat(s.name(), " (", s.customer_id(), ")")), "");
  fact("Period", absl::StrCat(DateText(s.from()), " to ", DateText(s.to())), "");
  fact("As known at", HtmlEscape(Rfc3339(s.as_known_at())), "");
  fact("Currency", HtmlEscape(cur), "");
  fact("Opening balance", money(s.opening_balance_minor()), "opening");
  fact("Invoiced", money(s.invoiced_minor()), "invoiced");
  fact("Payments received", money(s.payments_minor()), "payments");
  fact("Credit memos", money(s.credit_memos_minor()), "credit-memos");
  fact("Debit memos", money(s.debit_memos_minor()), "debit-memos");
  fact("Refunds", money(s.refunds_minor()), "refunds");
  fact("Closing balance", money(s.closing_balance_minor()), "closing");
  fact("Unapplied cash at period end", money(s.unapplied_cash_minor()), "unapplied");
  absl::StrAppend(&html,
                  "</table>\n<h2>Activity</h2>\n<table class=\"lines\">\n<thead><tr><th>Date</th>"
                  "<th>Entry</th><th>Invoice</th><th>Payment</th><th>Reference</th><th>Detail</th>"
                  "<th class=\"num\">Amount</th><th class=\"num\">Balance</th></tr></thead>\n"
                  "<tbody>\n<tr><td>",
                  DateText(s.from()),
                  "</td><td>opening balance</td><td></td><td></td><td></td><td></td>"
                  "<td class=\"num\"></td><td class=\"num\">",
                  money(s.opening_balance_minor()), "</td></tr>\n");
  for (const auto& l : s.lines()) {
    const std::string invoice =
        l.invoice_number().empty() ? l.invoice_id() : l.invoice_number();
    absl::StrAppend(&html, "<tr data-kind=\"", KindText(l.kind()), "\" data-seq=\"",
                    l.sequence(), "\"><td>", DateText(l.business_date()), "</td><td>",
                    HtmlEscape(KindText(l.kind())), "</td><td>", HtmlEscape(invoice), "</td><td>",
                    HtmlEscape(l.payment_id()), "</td><td>", HtmlEscape(l.reference()),
                    "</td><td>", HtmlEscape(l.detail()), "</td><td class=\"num\">",
                    money(l.balance_change_minor() != 0 ? l.balance_change_minor()
                                                        : l.amount_minor()),
                    "</td><td class=\"num\">", money(l.balance_after_minor()), "</td></tr>\n");
  }
  absl::StrAppend(&html, "<tr class=\"total\"><td>", DateText(s.to()),
                  "</td><td>closing balance</td><td></td><td></td><td></td><td></td>"
                  "<td class=\"num\"></td><td class=\"num\">",
                  money(s.closing_balance_minor()), "</td></tr>\n</tbody>\n</table>\n");
  absl::StrAppend(&html,
                  "<h2>Open items at ", DateText(s.to()),
                  "</h2>\n<table class=\"open-items\">\n<thead><tr><th>Invoice</th><th>Account"
                  "</th><th>Invoice date</th><th>Due date</th><th class=\"num\">Days past due</th>"
                  "<th class=\"num\">Amount</th><th class=\"num\">Open</th><th>Disputed</th></tr>"
                  "</thead>\n<tbody>\n");
  for (const auto& i : s.open_items()) {
    const auto& inv = i.invoice();
    absl::StrAppend(&html, "<tr data-invoice=\"", HtmlEscape(inv.invoice_id()), "\"><td>",
                    HtmlEscape(inv.number().empty() ? inv.invoice_id() : inv.number()),
                    "</td><td>", HtmlEscape(inv.account_id()), "</td><td>",
                    DateText(inv.invoice_date()), "</td><td>", DateText(inv.due_date()),
                    "</td><td class=\"num\">", i.days_past_due(), "</td><td class=\"num\">",
                    money(inv.amount().amount_minor()), "</td><td class=\"num\">",
                    money(i.open_minor()), "</td><td>", i.disputed() ? "yes" : "", "</td></tr>\n");
  }
  absl::StrAppend(&html, "<tr class=\"total\"><td>Total open</td><td></td><td></td><td></td>"
                         "<td></td><td></td><td class=\"num\">",
                  money(s.open_items_minor()), "</td><td></td></tr>\n</tbody>\n</table>\n");
  absl::StrAppend(&html,
                  "<p>Balances are in ", HtmlEscape(cur),
                  ". Only entries recorded by the instant above are included; entries recorded "
                  "later for this period appear when the statement is asked as known at a later "
                  "instant.</p>\n</main>\n</body>\n</html>\n");
  return html;
}

namespace {

std::string HoldStatusText(v1::CreditHoldStatus status) {
  return EnumText(v1::CreditHoldStatus_Name(status), "CREDIT_HOLD_STATUS_");
}

std::string OptionalTime(bool has, const google::protobuf::Timestamp& ts) {
  return has ? Rfc3339(ts) : std::string();
}

}  // namespace

std::string ShutdownReportCsv(const v1::GetShutdownReportResponse& report) {
  std::string out;
  AppendRow({"customer_id", "name", "hold_id", "status", "reason", "recommended_by",
             "recommended_at", "approved_by", "approved_at", "currency", "exposure_minor",
             "past_due_minor", "days_past_due", "credit_limit_minor",
             "recommended_exposure_minor", "recommended_days_past_due", "currency_exponent"},
            &out);
  for (const auto& e : report.entries()) {
    const auto& h = e.hold();
    AppendRow({e.customer_id(), e.name(), h.hold_id(), HoldStatusText(h.status()), h.reason(),
               h.recommended_by(), OptionalTime(h.has_recommended_at(), h.recommended_at()),
               h.approved_by(), OptionalTime(h.has_approved_at(), h.approved_at()),
               e.currency(), absl::StrCat(e.exposure_minor()), absl::StrCat(e.past_due_minor()),
               absl::StrCat(e.days_past_due()), absl::StrCat(e.credit_limit_minor()),
               absl::StrCat(h.recommended_exposure_minor()),
               absl::StrCat(h.recommended_days_past_due()),
               absl::StrCat(CurrencyExponent(e.currency()).value_or(2))},
              &out);
  }
  return out;
}

std::string ShutdownReportHtml(const v1::GetShutdownReportResponse& report) {
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Credit "
      "hold (shutdown) report</title>\n<style>",
      kStyle, "</style>\n</head>\n<body>\n<main data-entries=\"", report.entries_size(),
      "\">\n<h1>Credit hold (shutdown) report</h1>\n<p>As of ",
      HtmlEscape(Rfc3339(report.as_of())),
      "</p>\n<table>\n<thead><tr><th>Customer</th><th>Status</th><th>Reason</th>"
      "<th>Recommended</th><th>Approved</th><th class=\"num\">Exposure</th>"
      "<th class=\"num\">Past due</th><th class=\"num\">Days past due</th>"
      "<th class=\"num\">Credit limit</th></tr></thead>\n<tbody>\n");
  for (const auto& e : report.entries()) {
    const auto& h = e.hold();
    auto money = [&](int64_t minor) { return HtmlEscape(Amount(minor, e.currency())); };
    absl::StrAppend(
        &html, "<tr data-customer=\"", HtmlEscape(e.customer_id()), "\" data-status=\"",
        HoldStatusText(h.status()), "\"><td>", HtmlEscape(e.name()), " (",
        HtmlEscape(e.customer_id()), ")</td><td>", HoldStatusText(h.status()), "</td><td>",
        HtmlEscape(h.reason()), "</td><td>", HtmlEscape(h.recommended_by()), " ",
        HtmlEscape(OptionalTime(h.has_recommended_at(), h.recommended_at())), "</td><td>",
        HtmlEscape(h.approved_by()), " ",
        HtmlEscape(OptionalTime(h.has_approved_at(), h.approved_at())),
        "</td><td class=\"num\">", money(e.exposure_minor()), " ", HtmlEscape(e.currency()),
        "</td><td class=\"num\">", money(e.past_due_minor()), "</td><td class=\"num\">",
        e.days_past_due(), "</td><td class=\"num\">", money(e.credit_limit_minor()),
        "</td></tr>\n");
  }
  absl::StrAppend(&html, "</tbody>\n</table>\n</main>\n</body>\n</html>\n");
  return html;
}

}  // namespace collections::customer
