#define BOOST_TEST_MODULE authz_access_control
#include "services/authz/access_control.h"

#include "google/protobuf/text_format.h"

#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace collections::authz {
namespace {

const std::string kPolicyPath =
    std::string(COLLECTIONS_SOURCE_DIR) + "/deploy/policy/access-2025.textproto";

const AccessControl& Shipped() {
  static const AccessControl control = [] {
    auto c = AccessControl::Load(kPolicyPath);
    if (!c) throw std::runtime_error(c.error().message);
    return c.value();
  }();
  return control;
}

// Every RPC the service serves, by service, and the example principal of every role.
const std::vector<std::string> kCommandRpcs = {
    "OpenCase", "PostPayment", "ReversePayment", "AssignCase", "EscalateCase", "UpdateFlag",
    "CloseCase", "RecordContactAttempt", "RecordCorrespondence", "UpdateContactPoint",
    "SetLocationStatus", "RecordPromiseToPay", "CancelPromiseToPay", "ProposePaymentPlan",
    "AcceptPaymentPlan", "CancelPaymentPlan", "AgreeSettlement", "RefundCredit",
    "PostAdjustment", "OpenDispute", "SendDisputeVerification", "ResolveDispute",
    "WithdrawDispute", "PlaceWithAgency", "RecallFromAgency", "ReferToLegal", "ReportToBureau",
    "TransferDebt", "AuthorizeOverride", "CheckContact", "ReserveContact"};
const std::vector<std::string> kQueryRpcs = {"GetAccount", "ListAccounts", "GetWorkQueue"};
const std::vector<std::string> kComplianceRpcs = {"GetAuditTrail", "ReplayAccount",
                                                  "VerifyAuditTrail", "ExportEvents"};
const std::vector<std::string> kReportingRpcs = {"GetAgingReport", "GetActivityReport",
                                                 "GetCollectionEffectiveness", "GetRollRates"};
const std::vector<std::string> kCustomerQueryRpcs = {
    "GetCustomer", "GetCustomerReconciliation", "GetShutdownReport", "GetCustomerWorkQueue"};

// The documented defaults (README "Who may do what"): for every role, the RPCs it may call.
// Everything not listed is refused.
std::map<std::string, std::set<std::string>> ExpectedMatrix() {
  auto all = [](const std::string& service, const std::vector<std::string>& rpcs) {
    std::set<std::string> out;
    for (const auto& r : rpcs) out.insert("collections.v1." + service + "/" + r);
    return out;
  };
  auto commands = [](std::initializer_list<const char*> names) {
    std::set<std::string> out;
    for (const char* n : names) out.insert(std::string("collections.v1.CaseCommandService/") + n);
    return out;
  };
  auto join = [](std::initializer_list<std::set<std::string>> sets) {
    std::set<std::string> out;
    for (const auto& s : sets) out.insert(s.begin(), s.end());
    return out;
  };
  // Supervisors and admins may call AuthorizeOverride (the RPC is in their service
  // wildcard), but the domain refuses it for want of PRIVILEGE_OVERRIDE_GRANT and records the
  // attempt (AccessDenied): the door lets the call through so the attempt is on the trail.
  std::set<std::string> every_command = all("CaseCommandService", kCommandRpcs);
  std::set<std::string> customer_queries = all("CustomerQueryService", kCustomerQueryRpcs);
  return {
      {"dialer-1", join({commands({"CheckContact", "ReserveContact", "RecordContactAttempt"}),
                         {"collections.v1.CaseQueryService/GetAccount",
                          "collections.v1.CaseQueryService/GetWorkQueue"}})},
      {"collector-1",
       join({commands({"CheckContact", "ReserveContact", "RecordContactAttempt",
                       "RecordCorrespondence", "UpdateContactPoint", "SetLocationStatus",
                       "UpdateFlag", "EscalateCase", "PostPayment", "RecordPromiseToPay",
                       "CancelPromiseToPay", "ProposePaymentPlan", "AcceptPaymentPlan",
                       "CancelPaymentPlan", "AgreeSettlement", "OpenDispute", "WithdrawDispute"}),
             all("CaseQueryService", kQueryRpcs), customer_queries})},
      {"supervisor-1", join({every_command, all("CaseQueryService", kQueryRpcs),
                             all("ReportingService", kReportingRpcs), customer_queries})},
      {"compliance-officer-1",
       join({commands({"AuthorizeOverride", "CheckContact", "UpdateFlag"}),
             all("CaseQueryService", kQueryRpcs), all("ComplianceService", kComplianceRpcs),
             all("ReportingService", kReportingRpcs), customer_queries})},
      // Finance reads the customer statements and the shutdown report, not the customers.
      {"reporting-reader",
       join({all("ReportingService", kReportingRpcs),
             all("CustomerQueryService", {"GetCustomerReconciliation", "GetShutdownReport"})})},
      {"admin", join({every_command, all("CaseQueryService", kQueryRpcs),
                      all("ReportingService", kReportingRpcs), customer_queries})},
      {"stranger", {}},
  };
}

std::vector<std::string> EveryRpc() {
  std::vector<std::string> out;
  for (const auto& [service, rpcs] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"CaseCommandService", kCommandRpcs},
           {"CaseQueryService", kQueryRpcs},
           {"ComplianceService", kComplianceRpcs},
           {"ReportingService", kReportingRpcs},
           {"CustomerQueryService", kCustomerQueryRpcs}}) {
    for (const auto& r : rpcs) out.push_back("collections.v1." + service + "/" + r);
  }
  return out;
}

BOOST_AUTO_TEST_CASE(shipped_policy_loads_with_a_version_and_every_example_principal) {
  BOOST_TEST(Shipped().version() == "access-2025.1");
  for (const auto& [principal, role] : std::map<std::string, std::string>{
           {"dialer-1", "dialer"},
           {"collector-1", "collector"},
           {"collector-desktop", "collector"},
           {"supervisor-1", "supervisor"},
           {"compliance-officer-1", "compliance_officer"},
           {"reporting-reader", "reporting_reader"},
           {"admin", "admin"}}) {
    BOOST_TEST(Shipped().RoleOf(principal) == role, principal);
  }
  BOOST_TEST(Shipped().RoleOf("stranger") == "");
}

BOOST_AUTO_TEST_CASE(role_matrix_over_every_rpc_and_every_example_principal) {
  int checked = 0;
  for (const auto& [principal, allowed] : ExpectedMatrix()) {
    for (const auto& rpc : EveryRpc()) {
      AccessDecision d = Shipped().Check(principal, "/" + rpc);
      bool expected = allowed.count(rpc) > 0;
      BOOST_TEST(d.allowed == expected, principal << " " << rpc << ": " << d.message);
      if (!d.allowed) {
        BOOST_TEST(!d.reason.empty());
        BOOST_TEST(d.principal == principal);
        BOOST_TEST(d.message.find(principal) != std::string::npos, d.message);
      }
      ++checked;
    }
  }
  BOOST_TEST(checked == 7 * 46);
}

BOOST_AUTO_TEST_CASE(refusals_name_the_reason_and_the_roles_that_may) {
  AccessDecision d =
      Shipped().Check("dialer-1", "collections.v1.CaseCommandService/PostAdjustment");
  BOOST_TEST(d.reason == "RPC_NOT_ALLOWED");
  BOOST_TEST(d.role == "dialer");
  BOOST_TEST((d.roles_allowed == std::vector<std::string>{"admin", "supervisor"}));

  d = Shipped().Check("supervisor-1", "collections.v1.ComplianceService/GetAuditTrail");
  BOOST_TEST(d.reason == "RPC_NOT_ALLOWED");
  BOOST_TEST((d.roles_allowed == std::vector<std::string>{"compliance_officer"}));

  // A role that may call ComplianceService but lacks the privilege to read every account.
  v1::AccessPolicy policy;
  BOOST_REQUIRE(google::protobuf::TextFormat::ParseFromString(
      "version: \"v\" roles { name: \"auditor\" rpcs: \"collections.v1.ComplianceService/*\" } "
      "principals { id: \"p\" role: \"auditor\" }",
      &policy));
  auto control = AccessControl::FromPolicy(policy);
  BOOST_REQUIRE(control.ok());
  d = control->Check("p", "collections.v1.ComplianceService/VerifyAuditTrail");
  BOOST_TEST(d.reason == "PRIVILEGE_REQUIRED");
  BOOST_TEST(d.message.find("PRIVILEGE_READ_ANY_AUDIT_TRAIL") != std::string::npos, d.message);

  d = Shipped().Check("stranger", "collections.v1.CaseQueryService/GetAccount");
  BOOST_TEST(d.reason == "UNKNOWN_PRINCIPAL");
}

BOOST_AUTO_TEST_CASE(health_and_reflection_are_open_to_every_authenticated_caller) {
  for (const char* rpc : {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                          "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"}) {
    BOOST_TEST(Shipped().Check("stranger", rpc).allowed, rpc);
    BOOST_TEST(Shipped().Check("reporting-reader", rpc).allowed, rpc);
  }
}

BOOST_AUTO_TEST_CASE(privileges_of_the_default_roles) {
  using P = v1::Privilege;
  std::map<P, std::vector<std::string>> expected = {
      {v1::PRIVILEGE_OVERRIDE_GRANT, {"compliance_officer"}},
      {v1::PRIVILEGE_SETTLEMENT_APPROVAL, {"supervisor"}},
      {v1::PRIVILEGE_WRITE_OFF_APPROVAL, {"supervisor"}},
      {v1::PRIVILEGE_LATE_ENTRY, {"compliance_officer", "supervisor"}},
      {v1::PRIVILEGE_READ_ANY_AUDIT_TRAIL, {"compliance_officer"}},
      {v1::PRIVILEGE_ACT_ON_BEHALF_OF, {"admin", "collector"}},
      {v1::PRIVILEGE_CREDIT_HOLD_RECOMMEND, {"collector", "supervisor"}},
      {v1::PRIVILEGE_CREDIT_HOLD_APPROVAL, {"supervisor"}},
  };
  for (const auto& [privilege, roles] : expected) {
    BOOST_TEST(Shipped().RolesWithPrivilege(privilege) == roles, v1::Privilege_Name(privilege));
  }
}

BOOST_AUTO_TEST_CASE(a_bad_policy_fails_naming_the_field) {
  struct Case {
    std::string text;
    std::string field;
  };
  std::vector<Case> cases = {
      {"roles { name: \"a\" }", "version"},
      {"version: \"v\" roles { name: \"Bad Name\" }", "roles[0].name"},
      {"version: \"v\" roles { name: \"a\" } roles { name: \"a\" }", "roles[1].name"},
      {"version: \"v\" roles { name: \"a\" rpcs: \"PostPayment\" }", "roles[0].rpcs[0]"},
      {"version: \"v\" roles { name: \"a\" rpcs: \"x.S/*Pay\" }", "roles[0].rpcs[0]"},
      {"version: \"v\" roles { name: \"a\" privileges: PRIVILEGE_UNSPECIFIED }",
       "roles[0].privileges[0]"},
      {"version: \"v\" roles { name: \"a\" } principals { id: \"p\" role: \"b\" }",
       "principals[0].role"},
      {"version: \"v\" roles { name: \"a\" } principals { id: \"p\" role: \"a\" } "
       "principals { id: \"p\" role: \"a\" }",
       "principals[1].id"},
      {"version: \"v\" default_role: \"nobody\"", "default_role"},
  };
  for (const auto& c : cases) {
    v1::AccessPolicy policy;
    BOOST_REQUIRE(google::protobuf::TextFormat::ParseFromString(c.text, &policy));
    auto control = AccessControl::FromPolicy(policy);
    BOOST_REQUIRE_MESSAGE(!control.ok(), c.text);
    BOOST_TEST(control.error().field == c.field, c.text << ": " << control.error().message);
  }
  auto missing = AccessControl::Load("/nonexistent/access.textproto");
  BOOST_TEST(!missing.ok());
}

BOOST_AUTO_TEST_CASE(default_role_applies_to_unlisted_principals) {
  v1::AccessPolicy policy;
  BOOST_REQUIRE(google::protobuf::TextFormat::ParseFromString(
      "version: \"v\" default_role: \"reader\" roles { name: \"reader\" rpcs: "
      "\"collections.v1.ReportingService/*\" }",
      &policy));
  auto control = AccessControl::FromPolicy(policy);
  BOOST_REQUIRE(control.ok());
  BOOST_TEST(control->Check("anyone", "collections.v1.ReportingService/GetRollRates").allowed);
  BOOST_TEST(!control->Check("anyone", "collections.v1.CaseQueryService/GetAccount").allowed);
}

}  // namespace
}  // namespace collections::authz
