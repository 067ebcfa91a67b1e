#include "projections/reporting/report_csv.h"

#include "services/common/csv.h"
#include "services/domain/currency.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>

namespace collections::reporting {
namespace {

std::string Strip(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}
std::string Bucket(v1::AgingBucket b) { return Strip(v1::AgingBucket_Name(b), "AGING_BUCKET_"); }
std::string Kind(v1::AdjustmentKind k) {
  return Strip(v1::AdjustmentKind_Name(k), "ADJUSTMENT_KIND_");
}
std::string Channel(v1::ContactChannel c) {
  return Strip(v1::ContactChannel_Name(c), "CONTACT_CHANNEL_");
}
std::string FactKind(v1::ReportFactKind k) {
  return Strip(v1::ReportFactKind_Name(k), "REPORT_FACT_KIND_");
}
std::string Num(int64_t v) { return absl::StrCat(v); }
// The ISO 4217 minor-unit exponent of `currency` as a cell (2 for USD, 0 for JPY, 3 for KWD),
// so a consumer can turn *_minor into an amount; "" for a row without a currency.
std::string Exponent(const std::string& currency) {
  if (currency.empty()) return "";
  auto exponent = CurrencyExponent(currency);
  return exponent ? Num(*exponent) : "";
}

}  // namespace

std::string DateText(const v1::LocalDate& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

Table AgingTable(const v1::GetAgingReportResponse& r) {
  Table t = {{"as_of", "known_at", "creditor", "queue", "assignee", "currency", "bucket",
              "accounts", "balance_minor", "currency_exponent"}};
  for (const auto& row : r.rows()) {
    t.push_back({DateText(r.as_of()), DateText(r.known_at()), row.creditor(), row.queue(),
                 row.assignee(), row.currency(), Bucket(row.bucket()), Num(row.account_count()),
                 Num(row.balance_minor()), Exponent(row.currency())});
  }
  return t;
}

Table ActivityTable(const v1::GetActivityReportResponse& r) {
  Table t = {{"period_start", "period_end", "known_at", "creditor", "queue", "assignee", "measure",
              "type", "currency", "count", "amount_minor", "rate_basis_points",
              "currency_exponent"}};
  for (const auto& g : r.groups()) {
    auto add = [&](const std::string& measure, const std::string& type, const std::string& currency,
                   const std::string& count, const std::string& amount, const std::string& rate) {
      t.push_back({DateText(r.start()), DateText(r.end()), DateText(r.known_at()), g.creditor(),
                   g.queue(), g.assignee(), measure, type, currency, count, amount, rate,
                   Exponent(currency)});
    };
    for (const auto& m : g.money()) {
      add("payments", "", m.currency(), Num(m.payments_count()), Num(m.payments_minor()), "");
      add("reversals", "", m.currency(), Num(m.reversals_count()), Num(m.reversals_minor()), "");
      add("refunds", "", m.currency(), Num(m.refunds_count()), Num(m.refunds_minor()), "");
      add("net_collected", "", m.currency(), "", Num(m.net_collected_minor()), "");
      add("promised", "", m.currency(), "", Num(m.promised_minor()), "");
      for (const auto& a : m.adjustments()) {
        add("adjustment", Kind(a.kind()), m.currency(), Num(a.count()),
            Num(a.increase_minor() - a.decrease_minor()), "");
      }
      for (const auto& a : m.write_offs()) {
        add("write_off", Kind(a.kind()), m.currency(), Num(a.count()), Num(a.decrease_minor()), "");
      }
    }
    const auto& p = g.promises();
    add("promises_made", "", "", Num(p.made()), "", "");
    add("promises_kept", "", "", Num(p.kept()), "", "");
    add("promises_broken", "", "", Num(p.broken()), "", "");
    add("promises_cancelled", "", "", Num(p.cancelled()), "", "");
    add("promise_kept_rate", "", "", "", "",
        p.has_kept_rate_basis_points() ? Num(p.kept_rate_basis_points()) : "");
    for (const auto& c : g.contacts()) {
      add("contact_attempts", Channel(c.channel()), "", Num(c.attempts()), "", "");
      add("right_party_contacts", Channel(c.channel()), "", Num(c.right_party_contacts()), "",
          Num(c.right_party_contact_rate_basis_points()));
    }
    const auto& d = g.disputes();
    add("disputes_opened", "", "", Num(d.opened()), "", "");
    add("disputes_resolved", "", "", Num(d.resolved()), "", "");
    add("disputes_upheld", "", "", Num(d.upheld()), "", "");
    add("disputes_rejected", "", "", Num(d.rejected()), "", "");
    add("disputes_withdrawn", "", "", Num(d.withdrawn()), "", "");
    for (const auto& b : g.compliance_blocks())
      add("compliance_blocks", b.rule_id(), "", Num(b.count()), "", "");
  }
  return t;
}

Table EffectivenessTable(const v1::GetCollectionEffectivenessResponse& r) {
  Table t = {{"start", "end", "known_at", "currency", "opening_receivables_minor",
              "new_placements_minor", "closing_total_receivables_minor",
              "closing_current_receivables_minor", "numerator_minor", "denominator_minor",
              "cei_basis_points", "cei_percent", "currency_exponent"}};
  for (const auto& c : r.figures()) {
    std::string bp, percent;
    if (c.has_cei_basis_points()) {
      bp = Num(c.cei_basis_points());
      const int64_t v = c.cei_basis_points();
      percent =
          absl::StrFormat("%s%d.%02d", v < 0 ? "-" : "", std::abs(v) / 100, std::abs(v) % 100);
    }
    t.push_back({DateText(r.start()), DateText(r.end()), DateText(r.known_at()), c.currency(),
                 Num(c.opening_receivables_minor()), Num(c.new_placements_minor()),
                 Num(c.closing_total_receivables_minor()),
                 Num(c.closing_current_receivables_minor()), Num(c.numerator_minor()),
                 Num(c.denominator_minor()), bp, percent, Exponent(c.currency())});
  }
  return t;
}

Table RollRateTable(const v1::GetRollRatesResponse& r) {
  Table t = {{"from_date", "to_date", "known_at", "currency", "from_bucket", "to_bucket",
              "accounts", "from_balance_minor", "to_balance_minor", "rate_basis_points",
              "currency_exponent"}};
  for (const auto& x : r.rates()) {
    t.push_back({DateText(r.from_date()), DateText(r.to_date()), DateText(r.known_at()),
                 x.currency(), Bucket(x.from_bucket()),
                 x.exited() ? "EXITED" : Bucket(x.to_bucket()), Num(x.account_count()),
                 Num(x.from_balance_minor()), Num(x.to_balance_minor()),
                 Num(x.rate_basis_points()), Exponent(x.currency())});
  }
  return t;
}

Table CorrectionsTable(const google::protobuf::RepeatedPtrField<v1::ReportFact>& corrections) {
  Table t = {{"account_id", "sequence", "event_type", "kind", "business_date", "recorded_date",
              "currency", "amount_minor", "balance_change_minor", "assignee", "queue",
              "currency_exponent"}};
  for (const auto& f : corrections) {
    t.push_back({f.account_id(), Num(f.sequence()), f.event_type(), FactKind(f.kind()),
                 DateText(f.business_date()), DateText(f.recorded_date()), f.currency(),
                 Num(f.amount_minor()), Num(f.balance_change_minor()), f.assignee(), f.queue(),
                 Exponent(f.currency())});
  }
  return t;
}

void AppendCsv(const Table& table, bool with_header, std::string* out) {
  for (size_t i = with_header ? 0 : 1; i < table.size(); ++i) {
    for (size_t j = 0; j < table[i].size(); ++j) {
      if (j > 0) out->push_back(',');
      out->append(CsvCell(table[i][j]));
    }
    out->push_back('\n');  // as the audit export does: one line per row
  }
}

std::string Aligned(const Table& table) {
  std::vector<size_t> width;
  for (const auto& row : table) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t j = 0; j < row.size(); ++j) width[j] = std::max(width[j], row[j].size());
  }
  std::string out;
  for (const auto& row : table) {
    for (size_t j = 0; j < row.size(); ++j) {
      if (j > 0) out.append("  ");
      out.append(row[j]);
      if (j + 1 < row.size()) out.append(width[j] - row[j].size(), ' ');
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace collections::reporting
