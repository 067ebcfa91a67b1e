#pragma once

// The account timeline: one account's history as a self-contained HTML page (inline CSS and
// SVG, no script, nothing fetched) for a compliance officer to look at or print to PDF.
// Pure: it renders what `collectionsctl timeline` read from ComplianceService (the replay
// steps with the state after each, and the chain verification), so the unit test checks the
// page a user gets. Thread-compatible.

#include "collections/v1/compliance_service.pb.h"

#include <string>
#include <vector>

namespace collections::ctl {

// What the page is drawn from.
struct TimelineInput {
  std::string account_id;
  std::vector<v1::ReplayStep> steps;  // in sequence order, each with state_after
  v1::VerifyAuditTrailResponse verification;
  std::string generated_at;  // RFC 3339, printed in the footer ("" leaves it out)
  std::string tool_version;
};

// The lane an event is drawn in and its data-kind: "contact", "correspondence", "block",
// "override", "violation", "access-denied", "promise", "plan", "settlement", "payment",
// "reversal", "refund", "adjustment", "dispute", "hold", or "other".
std::string TimelineKind(const v1::EventEnvelope& event);

// The page. Machine-checkable: <main> carries data-account and counts (data-contacts,
// data-payments, data-reversals, data-blocks, data-overrides, data-promises-kept,
// data-promises-broken, data-disputes, data-events), the verification box carries
// data-verification="intact" or "broken" and data-breaks; every mark on the time axis and
// every row of the event table carries data-kind, data-seq and, where they apply,
// data-channel, data-outcome, data-rule, data-status.
std::string RenderTimelineHtml(const TimelineInput& input);

}  // namespace collections::ctl
