#pragma once

#include "absl/time/civil_time.h"
#include "collections/v1/account.pb.h"
#include "collections/v1/events.pb.h"
#include "collections/v1/reporting_service.pb.h"

#include <optional>

namespace collections::reporting {

// Turning events into report facts. Pure functions, no I/O: the reporting projector and the
// unit tests call them, so a rebuild from offset 0 produces exactly the same facts.
//
// `brief` is what reports need to remember about an account between its events: account_id,
// creditor, currency, time_zone, assignee, queue and due_date of a v1::Account, nothing else
// (the full account lives in the query projection). It starts empty.

// Applies `event` to `brief` and returns the fact it contributes to reports, or nullopt for
// events no report counts (status changes, flags, aging bucket changes ...). The fact is
// stamped with the account's creditor, currency, assignee and queue after the event, and with
// its business and recorded dates in the account's zone.
std::optional<v1::ReportFact> ApplyEvent(v1::Account& brief, const v1::EventEnvelope& event);

// True for adjustment kinds reported as write-offs rather than adjustments.
bool IsWriteOff(v1::AdjustmentKind kind);

// Dates on the wire and in keys.
absl::CivilDay ToDay(const v1::LocalDate& date);
v1::LocalDate ToDate(absl::CivilDay day);

}  // namespace collections::reporting
