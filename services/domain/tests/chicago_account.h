#pragma once

// Test-only builders shared by the domain's table tests: one Illinois account, ACC-1, whose
// consumer lives in Chicago, under the built-in federal policy.

#include "services/compliance/policy.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "collections/v1/case_service.pb.h"
#include "collections/v1/policy.pb.h"

#include <string>

namespace collections::testing {

inline const absl::TimeZone& Chicago() {
  static const absl::TimeZone tz = [] {
    absl::TimeZone zone;
    absl::LoadTimeZone("America/Chicago", &zone);
    return zone;
  }();
  return tz;
}

// An instant of the consumer's local (Chicago) time.
inline absl::Time Local(int y, int m, int d, int hh = 12, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), Chicago());
}

inline const v1::CompliancePolicy& Policy() {
  static const v1::CompliancePolicy policy = compliance::DefaultPolicy();
  return policy;
}

// `r` as ACC-1's command `command_id`, sent by `<role>-1` in `role`.
template <typename Request>
Request With(const std::string& command_id, Request r, const std::string& role = "collector") {
  r.set_command_id(command_id);
  r.set_account_id("ACC-1");
  r.mutable_actor()->set_id(role + "-1");
  r.mutable_actor()->set_role(role);
  return r;
}

// Opens ACC-1: 1,000.00 USD principal due 2025-09-01, one cell phone, a third-party collector.
inline v1::OpenCaseRequest OpenRequest(const std::string& jurisdiction = "IL") {
  v1::OpenCaseRequest r;
  r.set_creditor("Acme Bank");
  r.set_debtor_name("Jane Doe");
  r.set_currency("USD");
  r.mutable_balances()->set_principal_minor(100000);
  r.mutable_due_date()->set_year(2025);
  r.mutable_due_date()->set_month(9);
  r.mutable_due_date()->set_day(1);
  r.set_time_zone("America/Chicago");
  r.set_jurisdiction(jurisdiction);
  r.set_third_party_collector(true);
  auto* phone = r.mutable_contact_points()->add_phones();
  phone->set_number("+13125550100");
  phone->set_type(v1::PHONE_TYPE_CELL);
  return With("open", r);
}

}  // namespace collections::testing
