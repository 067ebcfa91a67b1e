#pragma once

#include "collections/v1/common.pb.h"
#include "collections/v1/policy.pb.h"

#include <algorithm>
#include <string_view>

namespace collections {

// Who may do what: the one place the domain reads an actor's role. Today the role is the
// request's actor.role as the caller states it; when authentication supplies it instead,
// only this file changes. Pure; safe from any thread.

inline constexpr std::string_view kComplianceOfficer = "compliance_officer";
inline constexpr std::string_view kSupervisor = "supervisor";

inline bool HasRole(const v1::Actor& actor, std::string_view role) { return actor.role() == role; }

// May record an action later than the policy's back-dating limit for its family.
inline bool HasLateEntryRole(const v1::Actor& actor, const v1::CompliancePolicy& policy) {
  return std::any_of(policy.late_entry_roles().begin(), policy.late_entry_roles().end(),
                     [&](const std::string& role) { return HasRole(actor, role); });
}

}  // namespace collections
