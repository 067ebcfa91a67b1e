#include "services/authz/access_control.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace collections::authz {
namespace {

class FirstErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!message_.empty()) return;
    message_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

std::string_view ServiceOf(std::string_view method) {
  auto slash = method.find('/');
  return slash == std::string_view::npos ? method : method.substr(0, slash);
}

bool ValidPattern(std::string_view p) {
  auto slash = p.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= p.size()) return false;
  if (p.find('/', slash + 1) != std::string_view::npos) return false;
  if (ServiceOf(p).find('.') == std::string_view::npos) return false;
  std::string_view method = p.substr(slash + 1);
  return method == "*" || method.find('*') == std::string_view::npos;
}

bool ValidRoleName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::string_view NormalizeMethod(std::string_view full_method) {
  if (!full_method.empty() && full_method.front() == '/') full_method.remove_prefix(1);
  return full_method;
}

bool IsOpenRpc(std::string_view full_method) {
  std::string_view service = ServiceOf(NormalizeMethod(full_method));
  return service == "grpc.health.v1.Health" ||
         service == "grpc.reflection.v1alpha.ServerReflection" ||
         service == "grpc.reflection.v1.ServerReflection";
}

AccessControl::AccessControl(v1::AccessPolicy policy) : policy_(std::move(policy)) {
  for (const auto& r : policy_.roles()) {
    auto& rpcs = rpcs_of_role_[r.name()];
    rpcs.insert(r.rpcs().begin(), r.rpcs().end());
    auto& privileges = privileges_of_role_[r.name()];
    for (int p : r.privileges()) privileges.insert(p);
  }
  for (const auto& p : policy_.principals()) role_of_[p.id()] = p.role();
}

Result<AccessControl> AccessControl::FromPolicy(v1::AccessPolicy policy) {
  if (policy.version().empty()) {
    return Error::InvalidArgument("version", "the access policy needs a version");
  }
  std::set<std::string> roles;
  for (int i = 0; i < policy.roles_size(); ++i) {
    const auto& r = policy.roles(i);
    std::string at = absl::StrCat("roles[", i, "]");
    if (!ValidRoleName(r.name())) {
      return Error::InvalidArgument(at + ".name",
                                    at + ".name must be lower case letters, digits and _");
    }
    if (!roles.insert(r.name()).second) {
      return Error::InvalidArgument(at + ".name", "role " + r.name() + " is defined twice");
    }
    for (int j = 0; j < r.rpcs_size(); ++j) {
      if (!ValidPattern(NormalizeMethod(r.rpcs(j)))) {
        return Error::InvalidArgument(
            absl::StrCat(at, ".rpcs[", j, "]"),
            absl::StrCat(at, ".rpcs[", j, "] \"", r.rpcs(j),
                         "\" must be package.Service/Method or package.Service/*"));
      }
    }
    for (int j = 0; j < r.privileges_size(); ++j) {
      if (r.privileges(j) == v1::PRIVILEGE_UNSPECIFIED) {
        return Error::InvalidArgument(absl::StrCat(at, ".privileges[", j, "]"),
                                      "PRIVILEGE_UNSPECIFIED is not a privilege");
      }
    }
  }
  std::set<std::string> ids;
  for (int i = 0; i < policy.principals_size(); ++i) {
    const auto& p = policy.principals(i);
    std::string at = absl::StrCat("principals[", i, "]");
    if (p.id().empty()) return Error::InvalidArgument(at + ".id", at + ".id is empty");
    if (!ids.insert(p.id()).second) {
      return Error::InvalidArgument(at + ".id", "principal " + p.id() + " is listed twice");
    }
    if (!roles.count(p.role())) {
      return Error::InvalidArgument(at + ".role", "principal " + p.id() + " has role \"" +
                                                      p.role() + "\", which no role defines");
    }
  }
  if (!policy.default_role().empty() && !roles.count(policy.default_role())) {
    return Error::InvalidArgument("default_role",
                                  "default_role " + policy.default_role() + " is not defined");
  }
  return AccessControl(std::move(policy));
}

Result<AccessControl> AccessControl::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::InvalidArgument("access-policy", path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  v1::AccessPolicy policy;
  google::protobuf::TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &policy)) {
    return Error::InvalidArgument("access-policy", path + ":" + errors.message());
  }
  auto control = FromPolicy(std::move(policy));
  if (!control) {
    Error e = control.error();
    e.message = path + ": " + e.message;
    return e;
  }
  return control;
}

std::string AccessControl::RoleOf(std::string_view principal) const {
  auto it = role_of_.find(principal);
  if (it != role_of_.end()) return it->second;
  return policy_.default_role();
}

bool AccessControl::MayCall(std::string_view role, std::string_view full_method) const {
  std::string_view method = NormalizeMethod(full_method);
  if (IsOpenRpc(method)) return true;
  auto it = rpcs_of_role_.find(role);
  if (it == rpcs_of_role_.end()) return false;
  if (it->second.count(std::string(method))) return true;
  return it->second.count(std::string(ServiceOf(method)) + "/*") > 0;
}

bool AccessControl::HasPrivilege(std::string_view role, v1::Privilege privilege) const {
  auto it = privileges_of_role_.find(role);
  return it != privileges_of_role_.end() && it->second.count(privilege) > 0;
}

std::vector<std::string> AccessControl::RolesAllowedToCall(std::string_view full_method) const {
  std::vector<std::string> out;
  v1::Privilege needed = StaticPrivilege(full_method);
  for (const auto& r : policy_.roles()) {
    if (MayCall(r.name(), full_method) &&
        (needed == v1::PRIVILEGE_UNSPECIFIED || HasPrivilege(r.name(), needed))) {
      out.push_back(r.name());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> AccessControl::RolesWithPrivilege(v1::Privilege privilege) const {
  std::vector<std::string> out;
  for (const auto& r : policy_.roles()) {
    if (HasPrivilege(r.name(), privilege)) out.push_back(r.name());
  }
  std::sort(out.begin(), out.end());
  return out;
}

v1::Privilege AccessControl::StaticPrivilege(std::string_view full_method) {
  std::string_view method = NormalizeMethod(full_method);
  if (ServiceOf(method) == "collections.v1.ComplianceService") {
    return v1::PRIVILEGE_READ_ANY_AUDIT_TRAIL;
  }
  return v1::PRIVILEGE_UNSPECIFIED;
}

AccessDecision AccessControl::Check(std::string_view principal_view,
                                    std::string_view full_method) const {
  AccessDecision d;
  const std::string principal(principal_view);
  d.principal = principal;
  d.role = RoleOf(principal);
  const std::string method(NormalizeMethod(full_method));
  if (IsOpenRpc(method)) {
    d.allowed = true;
    return d;
  }
  d.roles_allowed = RolesAllowedToCall(method);
  if (d.role.empty()) {
    d.reason = "UNKNOWN_PRINCIPAL";
    d.message = absl::StrCat("principal \"", principal, "\" has no role in access policy ",
                             version(), "; ", method, " needs one of: ",
                             absl::StrJoin(d.roles_allowed, ", "));
    return d;
  }
  if (!MayCall(d.role, method)) {
    d.reason = "RPC_NOT_ALLOWED";
    d.message = absl::StrCat("role ", d.role, " of principal \"", principal, "\" may not call ",
                             method, " (access policy ", version(), "); roles that may: ",
                             d.roles_allowed.empty() ? "none" : absl::StrJoin(d.roles_allowed, ", "));
    return d;
  }
  v1::Privilege needed = StaticPrivilege(method);
  if (needed != v1::PRIVILEGE_UNSPECIFIED && !HasPrivilege(d.role, needed)) {
    d.reason = "PRIVILEGE_REQUIRED";
    d.message = absl::StrCat(method, " needs privilege ", v1::Privilege_Name(needed),
                             ", which role ", d.role, " of principal \"", principal,
                             "\" does not hold (access policy ", version(), "); roles that do: ",
                             d.roles_allowed.empty() ? "none" : absl::StrJoin(d.roles_allowed, ", "));
    return d;
  }
  d.allowed = true;
  return d;
}

}  // namespace collections::authz
