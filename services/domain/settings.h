#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>

namespace collections {

// The balance components, in the order a payment can be applied to them.
enum class Component { kPrincipal = 0, kInterest = 1, kFees = 2, kCosts = 3 };

// Business settings of the case domain (not compliance policy). Every default is stated in
// the README; the server takes them from flags.
struct DomainSettings {
  // Days after a promise's due date before it is broken (a payment in that window keeps it).
  int promise_grace_days = 3;
  // Days after an instalment's (business-day) due date before it is missed.
  int plan_grace_days = 5;
  // Missed instalments that default a plan.
  int plan_missed_to_default = 1;
  // Small-balance write-offs above this total need the "supervisor" role. 2500 = 25.00.
  int64_t small_balance_threshold_minor = 2500;
  // Settlements below this share of the balance need the "supervisor" role. 6000 = 60%.
  int32_t min_settlement_basis_points = 6000;
  // F11: days after the initial communication by which the validation notice must be sent
  // (the compliance policy's validation_notice_deadline_days; the server copies it here).
  int validation_notice_deadline_days = 5;
  // ReserveContact: an unused reservation expires this long after its instant (the
  // compliance policy's reservation_ttl_seconds; the server copies it here).
  int reservation_ttl_seconds = 600;
  // A payment may be reversed (returned, charged back) this many days after it was posted, by
  // the service clock; later, PAYMENT_REVERSAL_WINDOW_PASSED (an adjustment corrects it).
  // 540 covers the longest card chargeback window. The writer keeps a payment's details only
  // this long. 0 = no limit, every payment kept.
  int payment_reversal_days = 540;
  // Payment allocation: oldest component first. Principal is the debt itself, interest
  // accrues on it afterwards, fees and costs are charged last.
  std::array<Component, 4> allocation_order = {Component::kPrincipal, Component::kInterest,
                                               Component::kFees, Component::kCosts};
  // Roles holding each privileged action the domain judges (the access policy's roles with
  // PRIVILEGE_OVERRIDE_GRANT, _SETTLEMENT_APPROVAL, _WRITE_OFF_APPROVAL; the server copies
  // them from deploy/policy/access-2025.textproto). Defaults: that file's.
  std::set<std::string> override_roles = {"compliance_officer"};
  std::set<std::string> settlement_approver_roles = {"supervisor"};
  std::set<std::string> write_off_approver_roles = {"supervisor"};
  // Customers (customer_aggregate.h). A credit memo on an invoice above this amount needs a
  // write-off approver (write_off_approver_roles) other than the person who asked for it, as a
  // small-balance write-off above its threshold does. 10000 = 100.00.
  int64_t credit_memo_threshold_minor = 10000;
  // Who may recommend a credit hold, and who approves (or releases) one (the access policy's
  // roles with PRIVILEGE_CREDIT_HOLD_RECOMMEND and _APPROVAL; the server copies them); an
  // approver never approves a hold they recommended (four eyes).
  std::set<std::string> credit_hold_recommender_roles = {"collector", "supervisor"};
  std::set<std::string> credit_hold_approver_roles = {"supervisor"};
};

}  // namespace collections
