#include "services/ctl/customer_text.h"

#include "projections/compliance/audit.h"
#include "projections/reporting/report_csv.h"
#include "services/ctl/ctl_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cctype>
#include <vector>

namespace collections::ctl {
namespace {

using reporting::Table;

// A time the message may leave unset (a hold not approved yet): empty then, not 1970.
std::string When(bool set, const google::protobuf::Timestamp& t) {
  return set ? compliance::Rfc3339(t) : "";
}

// Empty for a date the message leaves unset, not "0000-00-00".
std::string Day(const v1::LocalDate& d) {
  return d.year() == 0 ? "" : reporting::DateText(d);
}

std::string YesNo(bool b) { return b ? "yes" : "no"; }

std::string HoldStatus(v1::CreditHoldStatus s) {
  // UNSPECIFIED on a customer means "no hold": print nothing rather than a proto name.
  if (s == v1::CREDIT_HOLD_STATUS_UNSPECIFIED) return "";
  return EnumSuffix(v1::CreditHoldStatus_Name(s), "CREDIT_HOLD_STATUS_");
}

std::string Bucket(v1::AgingBucket b) {
  if (b == v1::AGING_BUCKET_UNSPECIFIED) return "";
  return EnumSuffix(v1::AgingBucket_Name(b), "AGING_BUCKET_");
}

// A balance change with its sign, so a reader sees which way it moved; nothing for lines that
// only say where money went.
std::string Change(int64_t minor, const std::string& currency) {
  if (minor == 0) return "";
  return absl::StrCat(minor > 0 ? "+" : "", Money(minor, currency));
}

// "  " before every line of `text`, and no padding left at the end of a line (an aligned
// row whose last cells are empty).
std::string Indented(const std::string& text) {
  std::string out;
  bool start = true;
  for (const char c : text) {
    if (start) out += "  ";
    if (c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
    }
    out += c;
    start = c == '\n';
  }
  return out;
}

// A titled block: the table (its first row the header) aligned and indented, or `empty` when
// it has no data rows, so an empty section is said, never silently left out.
std::string Section(const std::string& title, const Table& table, const std::string& empty) {
  std::string out = title + "\n";
  out += table.size() <= 1 ? "  " + empty + "\n" : Indented(reporting::Aligned(table));
  return out;
}

// Label / value pairs as two aligned columns.
std::string Facts(const Table& facts) { return Indented(reporting::Aligned(facts)); }

}  // namespace

std::string CustomerText(const v1::GetCustomerResponse& c, bool paid_included) {
  const std::string& cur = c.currency();
  auto money = [&](int64_t minor) { return Money(minor, cur); };
  std::string out = absl::StrCat("Customer ", c.customer_id(), ": ", c.name(), "\n");
  std::string kind = EnumSuffix(v1::CustomerKind_Name(c.kind()), "CUSTOMER_KIND_");
  for (char& ch : kind) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (c.commercial()) kind += ", commercial";
  const std::string hold = HoldStatus(c.hold_status());
  out += Facts({
      {"kind", kind},
      {"currency", cur},
      {"time zone", c.time_zone()},
      {"cash application",
       absl::StrCat(EnumSuffix(v1::CashApplicationRule_Name(c.cash_application_rule()),
                               "CASH_APPLICATION_RULE_"),
                    " (auto-release hold when current: ", YesNo(c.auto_release_hold_when_current()),
                    ")")},
      {"opened", When(c.has_opened_at(), c.opened_at())},
      {"version", absl::StrCat(c.version())},
      {"linked accounts", c.account_ids().empty() ? "(none)" : absl::StrJoin(c.account_ids(), ", ")},
      {"credit hold", hold.empty() ? "none" : hold},
      {"as of", When(c.has_as_of(), c.as_of()) + " (today, for days past due and aging)"},
  });
  if (!c.contacts().empty()) {
    Table contacts = {{"contact", "name", "roles", "email", "phone"}};
    for (const auto& k : c.contacts()) {
      contacts.push_back({k.contact_id(), k.name(), absl::StrJoin(k.roles(), ","), k.email(),
                          k.phone().number()});
    }
    out += "\n" + Section("Contacts", contacts, "");
  }

  const v1::CustomerTotals& t = c.totals();
  out += "\nTotals\n";
  out += Facts({
      {"open", absl::StrCat(money(t.open_minor()), " on ", t.open_invoices(), " invoice(s)")},
      {"unapplied cash", money(t.unapplied_cash_minor())},
      {"exposure", money(t.exposure_minor()) + " (open - unapplied cash)"},
      {"past due", money(t.past_due_minor())},
      {"disputed", money(t.disputed_minor())},
      {"in discrepancy", money(t.in_discrepancy_minor())},
      {"credit limit", money(t.credit_limit_minor())},
      {"available credit", money(t.available_credit_minor())},
      {"days past due", absl::StrCat(c.days_past_due())},
  });

  Table aging = {{"bucket", "invoices", "open"}};
  for (const auto& a : c.aging()) {
    aging.push_back({Bucket(a.bucket()), absl::StrCat(a.invoices()), money(a.open_minor())});
  }
  out += "\n" + Section("Aging (open invoices by their own days past due)", aging,
                        "(nothing open)");

  Table discrepancies = {
      {"discrepancy", "payment", "invoice", "account", "amount", "reason", "opened_at", "note"}};
  for (const auto& d : c.open_discrepancies()) {
    discrepancies.push_back(
        {d.discrepancy_id(), d.payment_id(), d.invoice_id(), d.account_id(),
         money(d.amount_minor()),
         EnumSuffix(v1::ShortPaymentReason_Name(d.reason()), "SHORT_PAYMENT_REASON_"),
         When(d.has_opened_at(), d.opened_at()), d.note()});
  }
  out += "\n" + Section("Open short-payment discrepancies", discrepancies, "(none)");

  Table holds = {{"hold", "status", "reason", "recommended_by", "recommended_at",
                  "exposure_then", "days_past_due_then", "approved_by", "approved_at"}};
  for (const auto& h : c.holds()) {
    holds.push_back({h.hold_id(), HoldStatus(h.status()), h.reason(), h.recommended_by(),
                     When(h.has_recommended_at(), h.recommended_at()),
                     money(h.recommended_exposure_minor()),
                     absl::StrCat(h.recommended_days_past_due()), h.approved_by(),
                     When(h.has_approved_at(), h.approved_at())});
  }
  out += "\n" + Section("Credit holds in effect", holds, "(none)");

  Table pending = {{"subject", "privilege", "requested_by", "sequence"}};
  for (const auto& p : c.pending_approvals()) {
    pending.push_back({p.subject(), p.privilege(), p.requested_by(), absl::StrCat(p.sequence())});
  }
  out += "\n" + Section("Credit memos waiting for approval", pending, "(none)");

  Table invoices = {{"invoice", "number", "account", "invoice_date", "due_date", "status",
                     "amount", "open", "paid", "credited", "debited", "in_discrepancy",
                     "dispute", "days_past_due", "aging"}};
  for (const auto& v : c.invoices()) {
    const v1::Invoice& i = v.invoice();
    invoices.push_back(
        {i.invoice_id(), i.number(), i.account_id(), Day(i.invoice_date()), Day(i.due_date()),
         EnumSuffix(v1::CustomerInvoiceStatus_Name(v.status()), "CUSTOMER_INVOICE_STATUS_"),
         money(i.amount().amount_minor()), money(v.open_minor()), money(v.paid_minor()),
         money(v.credited_minor()), money(v.debited_minor()), money(v.in_discrepancy_minor()),
         v.open_dispute_id(), absl::StrCat(v.days_past_due()), Bucket(v.aging_bucket())});
  }
  out += "\n" + Section(paid_included ? "Invoices (all, by invoice id)"
                                      : "Invoices (open, by due date; --include-paid-invoices "
                                        "for all)",
                        invoices, paid_included ? "(none)" : "(none open)");
  if (!c.next_page_token().empty()) {
    absl::StrAppend(&out, "  next page: --page-token ", c.next_page_token(), "\n");
  }
  return out;
}

std::string StatementText(const v1::CustomerReconciliation& s) {
  const std::string& cur = s.currency();
  auto money = [&](int64_t minor) { return Money(minor, cur); };
  std::string out = absl::StrCat("Statement of account ", s.customer_id(), ": ", s.name(), "\n");
  out += Facts({
      {"period", absl::StrCat(Day(s.from()), " to ", Day(s.to()), " (business dates in ",
                              s.time_zone(), ")")},
      {"as known at", When(s.has_as_known_at(), s.as_known_at())},
      {"currency", cur},
      {"opening balance", money(s.opening_balance_minor())},
      {"invoiced", money(s.invoiced_minor())},
      {"payments", money(s.payments_minor())},
      {"credit memos", money(s.credit_memos_minor())},
      {"debit memos", money(s.debit_memos_minor())},
      {"refunds", money(s.refunds_minor())},
      {"closing balance", money(s.closing_balance_minor())},
      {"unapplied cash", money(s.unapplied_cash_minor())},
      {"open items", money(s.open_items_minor())},
  });
  Table lines = {{"date", "seq", "kind", "invoice", "account", "payment", "reference", "amount",
                  "change", "balance", "detail"}};
  for (const auto& l : s.lines()) {
    lines.push_back({Day(l.business_date()), absl::StrCat(l.sequence()),
                     EnumSuffix(v1::StatementLineKind_Name(l.kind()), "STATEMENT_LINE_KIND_"),
                     l.invoice_id(), l.account_id(), l.payment_id(), l.reference(),
                     money(l.amount_minor()), Change(l.balance_change_minor(), cur),
                     money(l.balance_after_minor()), l.detail()});
  }
  out += "\n" + Section(absl::StrCat("Lines (", s.lines_size(), ", by date then sequence)"),
                        lines, "(no activity in the period)");
  Table items = {{"invoice", "number", "account", "invoice_date", "due_date", "amount", "open",
                  "days_past_due", "disputed"}};
  for (const auto& i : s.open_items()) {
    items.push_back({i.invoice().invoice_id(), i.invoice().number(), i.invoice().account_id(),
                     Day(i.invoice().invoice_date()), Day(i.invoice().due_date()),
                     money(i.invoice().amount().amount_minor()), money(i.open_minor()),
                     absl::StrCat(i.days_past_due()), YesNo(i.disputed())});
  }
  out += "\n" + Section(absl::StrCat("Open items on ", Day(s.to()), " (", s.open_items_size(),
                                     ")"),
                        items, "(nothing open)");
  return out;
}

std::string ShutdownReportText(const v1::GetShutdownReportResponse& r) {
  std::string out = absl::StrCat("Shutdown report as of ", When(r.has_as_of(), r.as_of()),
                                 ": credit holds recommended or approved, not released\n");
  Table entries = {{"customer", "name", "hold", "status", "reason", "recommended_by",
                    "recommended_at", "approved_by", "approved_at", "exposure", "past_due",
                    "days_past_due", "credit_limit"}};
  for (const auto& e : r.entries()) {
    const v1::CustomerHold& h = e.hold();
    entries.push_back({e.customer_id(), e.name(), h.hold_id(), HoldStatus(h.status()), h.reason(),
                       h.recommended_by(), When(h.has_recommended_at(), h.recommended_at()),
                       h.approved_by(), When(h.has_approved_at(), h.approved_at()),
                       Money(e.exposure_minor(), e.currency()),
                       Money(e.past_due_minor(), e.currency()), absl::StrCat(e.days_past_due()),
                       Money(e.credit_limit_minor(), e.currency())});
  }
  out += entries.size() <= 1 ? "  (no customer is on credit hold or recommended for it)\n"
                             : Indented(reporting::Aligned(entries));
  if (!r.next_page_token().empty()) {
    absl::StrAppend(&out, "  next page: --page-token ", r.next_page_token(), "\n");
  }
  return out;
}

std::string CustomerQueueText(const v1::GetCustomerWorkQueueResponse& q) {
  std::string out =
      absl::StrCat("Customers with something past due as of ", When(q.has_as_of(), q.as_of()),
                   ", highest exposure x days past due first\n");
  Table items = {{"rank", "customer", "name", "exposure", "days_past_due", "priority", "hold"}};
  int rank = 0;
  for (const auto& i : q.items()) {
    items.push_back({absl::StrCat(++rank), i.customer_id(), i.name(),
                     Money(i.exposure_minor(), i.currency()), absl::StrCat(i.days_past_due()),
                     absl::StrCat(i.priority()), HoldStatus(i.hold_status())});
  }
  out += items.size() <= 1 ? "  (no customer has anything past due)\n"
                           : Indented(reporting::Aligned(items));
  return out;
}

}  // namespace collections::ctl
