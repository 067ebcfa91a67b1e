#pragma once

#include "services/domain/error.h"

#include "collections/v1/access.pb.h"

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace collections::authz {

// The RPCs every authenticated caller may use whatever its role: health checks and server
// reflection (they reveal nothing about accounts).
bool IsOpenRpc(std::string_view full_method);

// What AccessControl::Check answers for one call.
struct AccessDecision {
  bool allowed = false;
  std::string principal;
  std::string role;  // the principal's role ("" when the policy does not know it)
  // When refused: a stable reason (UNKNOWN_PRINCIPAL, RPC_NOT_ALLOWED, PRIVILEGE_REQUIRED),
  // a sentence, and the roles that would have been allowed, for the caller's ErrorInfo.
  std::string reason;
  std::string message;
  std::vector<std::string> roles_allowed;
};

// The role matrix of collections.v1.AccessPolicy, checked once at load and then read-only:
// which role a principal has, which RPCs a role may call and which privileged actions it may
// take. Built once at start-up (or on SIGHUP into a new instance); immutable after
// construction, so any thread may read it without locks. Pure: no I/O but Load().
class AccessControl {
 public:
  // Validates `policy`: a version, unique role names, every principal's role defined, RPC
  // patterns of the form "package.Service/Method" or "package.Service/*", no
  // PRIVILEGE_UNSPECIFIED. Returns kInvalidArgument naming the first bad field.
  static Result<AccessControl> FromPolicy(v1::AccessPolicy policy);
  // Reads protobuf text from `path` and validates it ("<path>:<line>:<col>: ..." on a parse
  // error).
  static Result<AccessControl> Load(const std::string& path);

  const std::string& version() const { return policy_.version(); }
  const v1::AccessPolicy& policy() const { return policy_; }

  // The principal's role: its entry, else default_role; "" when neither.
  std::string RoleOf(std::string_view principal) const;
  // May `role` call `full_method` ("collections.v1.CaseCommandService/PostPayment", with or
  // without the leading '/')? Open RPCs are allowed for every role, even "".
  bool MayCall(std::string_view role, std::string_view full_method) const;
  bool HasPrivilege(std::string_view role, v1::Privilege privilege) const;
  // Roles that may call the method / hold the privilege, sorted (for errors and docs).
  std::vector<std::string> RolesAllowedToCall(std::string_view full_method) const;
  std::vector<std::string> RolesWithPrivilege(v1::Privilege privilege) const;

  // The privilege an RPC needs whatever the request says (the audit RPCs of
  // ComplianceService); PRIVILEGE_UNSPECIFIED when none. Privileges of commands
  // (AuthorizeOverride, approvals) are judged by the domain, which records a refused attempt.
  static v1::Privilege StaticPrivilege(std::string_view full_method);

  // The whole check of one call: the principal's role may call the method and holds its
  // static privilege.
  AccessDecision Check(std::string_view principal, std::string_view full_method) const;

 private:
  explicit AccessControl(v1::AccessPolicy policy);
  v1::AccessPolicy policy_;
  std::map<std::string, std::string, std::less<>> role_of_;
  std::map<std::string, std::set<std::string>, std::less<>> rpcs_of_role_;
  std::map<std::string, std::set<int>, std::less<>> privileges_of_role_;
};

// "/collections.v1.CaseCommandService/PostPayment" -> "collections.v1.CaseCommandService/PostPayment".
std::string_view NormalizeMethod(std::string_view full_method);

}  // namespace collections::authz
