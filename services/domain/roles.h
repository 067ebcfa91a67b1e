#pragma once

#include "collections/v1/common.pb.h"
#include "collections/v1/policy.pb.h"

#include <algorithm>
#include <string_view>

namespace collections {

// Who may do what: where the domain reads an actor's role. The role is the authenticated
// caller's role in the access policy: the API stamps actor.id and actor.role from the client
// certificate's principal before a command reaches the domain (services/authz/call_guard.h);
// a request cannot choose them. Which roles hold the privileged actions the domain judges
// (overrides, approvals) comes from the access policy through DomainSettings; late entries
// use the compliance policy's late_entry_roles. Pure; safe from any thread.

inline constexpr std::string_view kComplianceOfficer = "compliance_officer";
inline constexpr std::string_view kSupervisor = "supervisor";

inline bool HasRole(const v1::Actor& actor, std::string_view role) { return actor.role() == role; }

// May record an action later than the policy's back-dating limit for its family.
inline bool HasLateEntryRole(const v1::Actor& actor, const v1::CompliancePolicy& policy) {
  return std::any_of(policy.late_entry_roles().begin(), policy.late_entry_roles().end(),
                     [&](const std::string& role) { return HasRole(actor, role); });
}

}  // namespace collections
