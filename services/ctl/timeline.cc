#include "services/ctl/timeline.h"

#include "projections/compliance/audit.h"
#include "services/common/html.h"
#include "services/ctl/ctl_format.h"
#include "services/domain/case_aggregate.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

#include <algorithm>
#include <map>

namespace collections::ctl {
namespace {

std::string Escape(std::string_view text) { return HtmlEscape(text); }

double Seconds(const google::protobuf::Timestamp& t) {
  return static_cast<double>(t.seconds()) + t.nanos() / 1e9;
}

std::string Channel(v1::ContactChannel c) {
  return EnumSuffix(v1::ContactChannel_Name(c), "CONTACT_CHANNEL_");
}
std::string Outcome(v1::ContactOutcome o) {
  return EnumSuffix(v1::ContactOutcome_Name(o), "CONTACT_OUTCOME_");
}

// What one event contributes to the page besides its kind.
struct Mark {
  std::string kind, channel, outcome, rule, status, label;
};

Mark Describe(const v1::EventEnvelope& e) {
  using E = v1::EventEnvelope;
  Mark m;
  m.kind = TimelineKind(e);
  m.rule = EventRule(e);
  m.label = ShortType(EventType(e));
  switch (e.payload_case()) {
    case E::kContactAttempted: {
      const auto& c = e.contact_attempted().contact();
      m.channel = Channel(c.channel());
      m.outcome = Outcome(c.outcome());
      m.label = absl::StrCat(m.channel, " ",
                             c.direction() == v1::CONTACT_DIRECTION_INBOUND ? "inbound" : "outbound",
                             ": ", m.outcome, c.violation() ? " (VIOLATION)" : "");
      if (c.violation()) m.status = "violation";
      break;
    }
    case E::kCorrespondenceSent: {
      const auto& c = e.correspondence_sent().correspondence();
      m.channel = Channel(c.channel());
      m.outcome = c.undeliverable() ? "UNDELIVERABLE" : "SENT";
      m.label = absl::StrCat(m.channel, " ",
                             EnumSuffix(v1::CorrespondenceKind_Name(c.kind()), "CORRESPONDENCE_KIND_"));
      break;
    }
    case E::kContactBlocked:
      m.label = absl::StrCat("blocked by ", m.rule, ": ", e.contact_blocked().command());
      break;
    case E::kComplianceOverrideGranted:
      m.label = absl::StrCat("override of ", m.rule, " for ", e.compliance_override_granted().command());
      break;
    case E::kComplianceViolationRecorded:
      m.label = absl::StrCat("violation of ", m.rule);
      break;
    case E::kPromiseMade: m.status = "made"; break;
    case E::kPromiseKept: m.status = "kept"; break;
    case E::kPromiseBroken: m.status = "broken"; break;
    case E::kPromiseCancelled: m.status = "cancelled"; break;
    case E::kPlanProposed: m.status = "proposed"; break;
    case E::kPlanAccepted: m.status = "accepted"; break;
    case E::kPlanActivated: m.status = "active"; break;
    case E::kPlanCompleted: m.status = "kept"; break;
    case E::kInstalmentMissed: m.status = "broken"; break;
    case E::kPlanDefaulted: m.status = "broken"; break;
    case E::kPlanCancelled: m.status = "cancelled"; break;
    case E::kSettlementAgreed: m.status = "made"; break;
    case E::kSettlementCompleted: m.status = "kept"; break;
    case E::kDisputeOpened: m.status = "opened"; break;
    case E::kDisputeVerificationSent: m.status = "verification-sent"; break;
    case E::kDisputeResolved: m.status = e.dispute_resolved().upheld() ? "upheld" : "rejected"; break;
    case E::kDisputeWithdrawn: m.status = "withdrawn"; break;
    default: break;
  }
  return m;
}

const char* kLanes[] = {"Contacts", "Compliance", "Promises & plans", "Payments",
                        "Disputes & holds"};

int LaneOf(const std::string& kind) {
  if (kind == "contact" || kind == "correspondence") return 0;
  if (kind == "block" || kind == "override" || kind == "violation" || kind == "access-denied")
    return 1;
  if (kind == "promise" || kind == "plan" || kind == "settlement") return 2;
  if (kind == "payment" || kind == "reversal" || kind == "refund" || kind == "adjustment")
    return 3;
  if (kind == "dispute" || kind == "hold") return 4;
  return -1;
}

std::string Color(const Mark& m) {
  if (m.status == "violation") return "#c62828";
  if (m.kind == "contact" || m.kind == "correspondence") {
    if (m.outcome == "RIGHT_PARTY_CONVERSATION" || m.outcome == "DELIVERED" || m.outcome == "SENT")
      return "#2e7d32";
    if (m.outcome == "VOICEMAIL" || m.outcome == "MESSAGE_LEFT") return "#1565c0";
    if (m.outcome == "UNDELIVERABLE" || m.outcome == "WRONG_NUMBER" || m.outcome == "THIRD_PARTY")
      return "#ef6c00";
    return "#757575";
  }
  if (m.kind == "block" || m.kind == "violation" || m.kind == "reversal") return "#c62828";
  if (m.kind == "override") return "#f9a825";
  if (m.kind == "access-denied") return "#6a1b9a";
  if (m.kind == "payment") return "#2e7d32";
  if (m.kind == "refund") return "#ef6c00";
  if (m.status == "kept" || m.status == "upheld") return "#2e7d32";
  if (m.status == "broken" || m.status == "opened") return "#c62828";
  if (m.status == "cancelled" || m.status == "withdrawn") return "#9e9e9e";
  return "#1565c0";
}

// The SVG shape of a mark centred on (x, y).
std::string Shape(const Mark& m, double x, double y) {
  const std::string fill = Color(m);
  if (m.kind == "block" || m.kind == "violation") {
    return absl::StrFormat(
        "<path d=\"M%.1f %.1f l10 10 m0 -10 l-10 10\" stroke=\"%s\" stroke-width=\"3\"/>", x - 5,
        y - 5, fill);
  }
  if (m.kind == "payment" || m.kind == "refund") {
    return absl::StrFormat("<path d=\"M%.1f %.1f l6 10 h-12 z\" fill=\"%s\"/>", x, y - 6, fill);
  }
  if (m.kind == "reversal") {
    return absl::StrFormat("<path d=\"M%.1f %.1f l6 -10 h-12 z\" fill=\"%s\"/>", x, y + 6, fill);
  }
  if (m.kind == "override") {
    return absl::StrFormat("<path d=\"M%.1f %.1f l6 6 l-6 6 l-6 -6 z\" fill=\"%s\"/>", x, y - 6,
                           fill);
  }
  if (m.kind == "adjustment" || m.kind == "hold" || m.kind == "access-denied") {
    return absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>",
                           x - 5, y - 5, fill);
  }
  return absl::StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"%s\"/>", x, y, fill);
}

std::string DataAttributes(const Mark& m, int64_t sequence) {
  std::string out = absl::StrCat(" data-kind=\"", m.kind, "\" data-seq=\"", sequence, "\"");
  if (!m.channel.empty()) absl::StrAppend(&out, " data-channel=\"", Escape(m.channel), "\"");
  if (!m.outcome.empty()) absl::StrAppend(&out, " data-outcome=\"", Escape(m.outcome), "\"");
  if (!m.rule.empty()) absl::StrAppend(&out, " data-rule=\"", Escape(m.rule), "\"");
  if (!m.status.empty()) absl::StrAppend(&out, " data-status=\"", Escape(m.status), "\"");
  return out;
}

constexpr char kStyle[] = R"css(
:root { --ink: #212121; --muted: #616161; --rule: #e0e0e0; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.facts { color: var(--muted); margin: 0 0 12px; }
.facts span { margin-right: 16px; }
.verification { display: inline-block; padding: 6px 12px; border-radius: 4px; font-weight: 600; }
.verification.intact { background: #e8f5e9; color: #1b5e20; border: 1px solid #2e7d32; }
.verification.broken { background: #ffebee; color: #b71c1c; border: 1px solid #c62828; }
.verification ul { font-weight: normal; margin: 4px 0 0; }
svg { width: 100%; height: auto; display: block; }
svg text { font-size: 11px; fill: var(--muted); }
svg .lane-label { font-size: 12px; fill: var(--ink); font-weight: 600; }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.legend b { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--rule);
         vertical-align: top; }
th { background: #fafafa; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.when { white-space: nowrap; }
td.reason { word-break: break-word; max-width: 420px; }
tr[data-kind="block"], tr[data-kind="violation"] { background: #fff5f5; }
footer { color: var(--muted); font-size: 11px; margin-top: 16px; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; font-size: 11px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .axis { break-inside: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
)css";

}  // namespace

std::string TimelineKind(const v1::EventEnvelope& e) {
  using E = v1::EventEnvelope;
  switch (e.payload_case()) {
    case E::kContactAttempted: return "contact";
    case E::kCorrespondenceSent: return "correspondence";
    case E::kContactBlocked: return "block";
    case E::kComplianceOverrideGranted: return "override";
    case E::kComplianceViolationRecorded: return "violation";
    case E::kAccessDenied: return "access-denied";
    case E::kPromiseMade:
    case E::kPromiseKept:
    case E::kPromiseBroken:
    case E::kPromiseCancelled: return "promise";
    case E::kPlanProposed:
    case E::kPlanAccepted:
    case E::kPlanActivated:
    case E::kInstalmentMissed:
    case E::kPlanCompleted:
    case E::kPlanDefaulted:
    case E::kPlanCancelled: return "plan";
    case E::kSettlementAgreed:
    case E::kSettlementCompleted: return "settlement";
    case E::kPaymentPosted: return "payment";
    case E::kPaymentReversed: return "reversal";
    case E::kCreditRefunded: return "refund";
    case E::kAdjustmentPosted: return "adjustment";
    case E::kDisputeOpened:
    case E::kDisputeVerificationSent:
    case E::kDisputeResolved:
    case E::kDisputeWithdrawn: return "dispute";
    case E::kFlagChanged: {
      const auto& f = e.flag_changed();
      if (f.has_bankruptcy() || f.has_cease_communication() || f.has_attorney() ||
          f.has_opt_out() || f.has_deceased() || f.has_employer_prohibits_contact())
        return "hold";
      return "other";
    }
    default: return "other";
  }
}

std::string RenderTimelineHtml(const TimelineInput& in) {
  // The account as the last step left it (identity, currency), and counts for <main>.
  v1::Account last;
  for (const auto& s : in.steps) {
    if (s.has_state_after()) last = s.state_after();
  }
  const std::string currency = last.currency();
  std::map<std::string, int> kinds, promise_status;
  for (const auto& s : in.steps) {
    const Mark m = Describe(s.event());
    ++kinds[m.kind];
    if (m.kind == "promise") ++promise_status[m.status];
  }

  // The time axis: business time (occurred_at) from the first event to the last.
  double t0 = 0, t1 = 1;
  if (!in.steps.empty()) {
    t0 = t1 = Seconds(in.steps.front().event().occurred_at());
    for (const auto& s : in.steps) {
      t0 = std::min(t0, Seconds(s.event().occurred_at()));
      t1 = std::max(t1, Seconds(s.event().occurred_at()));
    }
  }
  if (t1 - t0 < 3600) t1 = t0 + 3600;  // one event, or a burst: an hour wide
  const double pad = (t1 - t0) * 0.03;
  t0 -= pad;
  t1 += pad;
  constexpr double kLeft = 130, kRight = 1180, kLaneHeight = 46, kTop = 10;
  constexpr double kBalanceHeight = 130;
  const int lanes = static_cast<int>(std::size(kLanes));
  const double balance_top = kTop + lanes * kLaneHeight + 10;
  const double axis_y = balance_top + kBalanceHeight + 10;
  const double height = axis_y + 30;
  auto x_of = [&](double t) { return kLeft + (t - t0) / (t1 - t0) * (kRight - kLeft); };

  std::string svg = absl::StrFormat(
      "<svg class=\"axis\" viewBox=\"0 0 1200 %.0f\" role=\"img\" aria-label=\"account history "
      "on a time axis\" xmlns=\"http://www.w3.org/2000/svg\">\n",
      height);
  for (int i = 0; i < lanes; ++i) {
    const double y = kTop + i * kLaneHeight;
    absl::StrAppendFormat(&svg,
                          "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\"/>"
                          "<text class=\"lane-label\" x=\"4\" y=\"%.0f\">%s</text>\n",
                          kLeft, y, kRight - kLeft, kLaneHeight - 4, i % 2 ? "#fafafa" : "#f3f6fa",
                          y + kLaneHeight / 2 + 2, Escape(kLanes[i]));
  }
  // Dispute spans: from opened to resolved or withdrawn (or the end of the history).
  std::map<std::string, double> open_disputes;
  for (const auto& s : in.steps) {
    const auto& e = s.event();
    const double t = Seconds(e.occurred_at());
    if (e.has_dispute_opened()) open_disputes[e.dispute_opened().dispute().dispute_id()] = t;
    std::string closed;
    if (e.has_dispute_resolved()) closed = e.dispute_resolved().dispute_id();
    if (e.has_dispute_withdrawn()) closed = e.dispute_withdrawn().dispute_id();
    if (!closed.empty() && open_disputes.count(closed)) {
      const double y = kTop + 4 * kLaneHeight + 12;
      absl::StrAppendFormat(&svg,
                            "<rect class=\"span\" data-kind=\"dispute-span\" x=\"%.1f\" y=\"%.0f\" "
                            "width=\"%.1f\" height=\"18\" fill=\"#ffcdd2\"/>\n",
                            x_of(open_disputes[closed]), y,
                            std::max(1.0, x_of(t) - x_of(open_disputes[closed])));
      open_disputes.erase(closed);
    }
  }
  for (const auto& [id, from] : open_disputes) {
    absl::StrAppendFormat(&svg,
                          "<rect class=\"span\" data-kind=\"dispute-span\" data-status=\"open\" "
                          "x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"18\" fill=\"#ffcdd2\"/>\n",
                          x_of(from), kTop + 4 * kLaneHeight + 12, std::max(1.0, kRight - x_of(from)));
  }
  // Channels in the contacts lane, one row each.
  auto channel_offset = [](const std::string& channel) {
    if (channel == "CALL") return -14.0;
    if (channel == "TEXT") return -7.0;
    if (channel == "EMAIL") return 0.0;
    if (channel == "LETTER") return 7.0;
    return 14.0;
  };
  for (const auto& s : in.steps) {
    const auto& e = s.event();
    const Mark m = Describe(e);
    const int lane = LaneOf(m.kind);
    if (lane < 0) continue;
    double y = kTop + lane * kLaneHeight + (kLaneHeight - 4) / 2;
    if (lane == 0) y += channel_offset(m.channel) * 0.9;
    const auto amount = EventAmountMinor(e);
    std::string title = absl::StrCat("#", e.sequence(), " ", compliance::Rfc3339(e.occurred_at()),
                                     " ", m.label);
    if (amount) absl::StrAppend(&title, " ", Money(*amount, currency));
    if (!m.rule.empty() && m.kind != "block") absl::StrAppend(&title, " rule ", m.rule);
    absl::StrAppend(&svg, "<g class=\"mark\"", DataAttributes(m, e.sequence()), "><title>",
                    Escape(title), "</title>", Shape(m, x_of(Seconds(e.occurred_at())), y),
                    "</g>\n");
  }
  // Balance over time: a step line of the total balance after each event.
  int64_t max_balance = 1, min_balance = 0;
  for (const auto& s : in.steps) {
    if (!s.has_state_after()) continue;
    max_balance = std::max(max_balance, s.state_after().total_balance_minor());
    min_balance = std::min(min_balance, s.state_after().total_balance_minor());
  }
  auto y_of = [&](int64_t b) {
    return balance_top + kBalanceHeight -
           static_cast<double>(b - min_balance) / static_cast<double>(max_balance - min_balance) *
               kBalanceHeight;
  };
  absl::StrAppendFormat(&svg,
                        "<text class=\"lane-label\" x=\"4\" y=\"%.0f\">Balance</text>"
                        "<text x=\"4\" y=\"%.0f\">%s</text><text x=\"4\" y=\"%.0f\">%s</text>\n"
                        "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#bdbdbd\"/>\n",
                        balance_top + 14, balance_top + 30, Escape(Money(max_balance, currency)),
                        balance_top + kBalanceHeight, Escape(Money(min_balance, currency)), kLeft,
                        y_of(0), kRight, y_of(0));
  std::string points;
  double prev_y = -1;
  int balance_points = 0;
  for (const auto& s : in.steps) {
    if (!s.has_state_after()) continue;
    const double x = x_of(Seconds(s.event().occurred_at()));
    const double y = y_of(s.state_after().total_balance_minor());
    if (prev_y >= 0) absl::StrAppendFormat(&points, "%.1f,%.1f ", x, prev_y);
    absl::StrAppendFormat(&points, "%.1f,%.1f ", x, y);
    prev_y = y;
    ++balance_points;
  }
  if (prev_y >= 0) absl::StrAppendFormat(&points, "%.1f,%.1f", kRight, prev_y);
  absl::StrAppendFormat(&svg,
                        "<polyline class=\"balance\" data-kind=\"balance\" data-points=\"%d\" "
                        "points=\"%s\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\"/>\n",
                        balance_points, points);
  // Date ticks.
  absl::StrAppendFormat(&svg,
                        "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#9e9e9e\"/>\n",
                        kLeft, axis_y, kRight, axis_y);
  for (int i = 0; i <= 6; ++i) {
    const double t = t0 + (t1 - t0) * i / 6;
    const absl::Time when = absl::FromUnixSeconds(static_cast<int64_t>(t));
    const bool short_span = t1 - t0 < 3 * 86400;
    absl::StrAppendFormat(
        &svg,
        "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#9e9e9e\"/>"
        "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">%s</text>\n",
        x_of(t), axis_y, x_of(t), axis_y + 5, x_of(t), axis_y + 18,
        i == 0 ? "start" : i == 6 ? "end" : "middle",
        absl::FormatTime(short_span ? "%Y-%m-%d %H:%M" : "%Y-%m-%d", when, absl::UTCTimeZone()));
  }
  svg += "</svg>\n";

  // The verification result.
  const auto& v = in.verification;
  std::string verification = absl::StrCat(
      "<div class=\"verification ", v.intact() ? "intact" : "broken", "\" data-verification=\"",
      v.intact() ? "intact" : "broken", "\" data-breaks=\"", v.breaks_size(),
      "\" data-events-checked=\"", v.events_checked(), "\">",
      v.intact() ? absl::StrCat("Hash chain and writer signatures verified: ", v.events_checked(),
                                " events intact")
                 : absl::StrCat("Chain BROKEN: ", v.breaks_size(), " break(s) in ",
                                v.events_checked(), " events"));
  if (!v.intact()) {
    verification += "<ul>";
    for (const auto& b : v.breaks()) {
      absl::StrAppend(&verification, "<li data-kind=\"break\" data-seq=\"", b.sequence(),
                      "\">sequence ", b.sequence(), " (partition ", b.partition(), " offset ",
                      b.offset(), "): ", Escape(b.reason()), "</li>");
    }
    verification += "</ul>";
  }
  verification += "</div>\n";

  // The event table.
  std::string rows;
  for (const auto& s : in.steps) {
    const auto& e = s.event();
    const Mark m = Describe(e);
    const auto amount = EventAmountMinor(e);
    std::string reason = EventReason(e);
    if (!s.integrity().empty()) reason = absl::StrCat("NOT APPLIED (", s.integrity(), "); ", reason);
    absl::StrAppend(
        &rows, "<tr class=\"event\"", DataAttributes(m, e.sequence()), "><td class=\"num\">",
        e.sequence(), "</td><td class=\"when\">", Escape(compliance::Rfc3339(e.occurred_at())),
        "</td><td>", Escape(m.label), "</td><td>", Escape(e.actor().id()),
        "</td><td class=\"num\">", amount ? Escape(Money(*amount, currency)) : "",
        "</td><td>", Escape(m.rule), "</td><td class=\"reason\">", Escape(reason),
        "</td><td class=\"num\">",
        s.has_state_after() ? Escape(Money(s.state_after().total_balance_minor(), currency)) : "",
        "</td></tr>\n");
  }

  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>Account ",
      Escape(in.account_id), " timeline</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n");
  absl::StrAppend(
      &html, "<main data-account=\"", Escape(in.account_id), "\" data-events=\"", in.steps.size(),
      "\" data-contacts=\"", kinds["contact"], "\" data-correspondence=\"", kinds["correspondence"],
      "\" data-payments=\"", kinds["payment"], "\" data-reversals=\"", kinds["reversal"],
      "\" data-blocks=\"", kinds["block"], "\" data-overrides=\"", kinds["override"],
      "\" data-violations=\"", kinds["violation"], "\" data-promises-kept=\"",
      promise_status["kept"], "\" data-promises-broken=\"", promise_status["broken"],
      "\" data-disputes=\"", kinds["dispute"], "\" data-holds=\"", kinds["hold"], "\">\n");
  absl::StrAppend(&html, "<h1>Account ", Escape(in.account_id), "</h1>\n<p class=\"facts\">",
                  "<span>Creditor: ", Escape(last.creditor()), "</span><span>Debtor: ",
                  Escape(last.debtor_name()), "</span><span>Status: ",
                  Escape(EnumSuffix(v1::AccountStatus_Name(last.status()), "ACCOUNT_STATUS_")),
                  "</span><span>Balance: ", Escape(Money(last.total_balance_minor(), currency)),
                  "</span><span>Events: ", in.steps.size(), "</span></p>\n");
  html += verification;
  absl::StrAppend(&html, "<h2>History on a time axis (business time, UTC)</h2>\n", svg);
  html +=
      "<p class=\"legend\"><b style=\"background:#2e7d32\"></b>conversation, delivered, payment, "
      "kept<b style=\"background:#757575\"></b>no answer, busy<b style=\"background:#1565c0\"></b>"
      "voicemail, message, made<b style=\"background:#ef6c00\"></b>undeliverable, wrong number, "
      "refund<b style=\"background:#c62828\"></b>block (&#x2715;), violation, reversal, broken<b "
      "style=\"background:#f9a825\"></b>override<b style=\"background:#ffcdd2\"></b>dispute open. "
      "Contacts: calls on top, then texts, e-mails, letters, visits.</p>\n";
  if (in.steps.empty()) html += "<p>No events: the account has no history in the log.</p>\n";
  absl::StrAppend(&html,
                  "<h2>Events</h2>\n<table>\n<thead><tr><th>seq</th><th>occurred (UTC)</th>"
                  "<th>what</th><th>actor</th><th>amount</th><th>rule</th><th>reason</th>"
                  "<th>balance after</th></tr></thead>\n<tbody>\n",
                  rows, "</tbody>\n</table>\n<footer>collectionsctl ", Escape(in.tool_version),
                  in.generated_at.empty() ? "" : ", generated " + Escape(in.generated_at),
                  ". Read from the event log through ComplianceService; amounts in ",
                  Escape(currency), ".</footer>\n</main>\n</body>\n</html>\n");
  return html;
}

}  // namespace collections::ctl
