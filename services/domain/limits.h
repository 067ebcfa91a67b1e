#pragma once

#include <cstddef>
#include <cstdint>

// The limits ValidateRequest enforces on every command, in one place (README "Limits" lists
// them for callers). They keep any one command's events far below the broker's 1 MB message
// size, and every sum of money far from int64 overflow.

namespace collections {

// The whole request, protobuf-serialized. A command's largest event carries about the request
// (a refused contact attempt stores it whole), so this keeps every event below 1 MB.
inline constexpr size_t kMaxRequestBytes = 256 * 1024;

// Identifiers (command_id, account_id, payment_id ..., actor.id, correlation_id, assignee,
// queue): printable ASCII without spaces.
inline constexpr size_t kMaxIdBytes = 128;
inline constexpr size_t kMaxRoleBytes = 64;  // actor.role
// Names and free text (creditor, debtor_name, reason, note, reference, firm ...), UTF-8 bytes.
inline constexpr size_t kMaxTextBytes = 1000;
inline constexpr size_t kMaxEmailBytes = 254;        // RFC 5321 path limit
inline constexpr size_t kMaxAddressPartBytes = 200;  // one address line, city, region
inline constexpr size_t kMaxPostalCodeBytes = 32;

// Repeated fields.
inline constexpr int kMaxPhones = 20;
inline constexpr int kMaxEmails = 20;  // each of emails, verified_emails, invalid_emails
inline constexpr int kMaxAddressLines = 6;
inline constexpr int kMaxInstalments = 600;
// Customers (customer_aggregate.h): contacts of a company, roles of one contact, and the
// directions one payment may carry.
inline constexpr int kMaxCustomerContacts = 50;
inline constexpr int kMaxCustomerContactRoles = 10;
inline constexpr int kMaxPaymentDirections = 500;
// Other debts one call or consumer fact may concern (SeveralDebts.other_account_ids, F3).
inline constexpr int kMaxSeveralDebts = 20;

// Numbers.
// Largest amount accepted anywhere, and the largest any balance component, the total balance
// and the credit balance of an account may reach: 10^15 minor units (10 trillion dollars).
inline constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;
// What an account may have written off over its life: far above any real account and still
// 9x below int64's limit, so no later sum of it overflows.
inline constexpr int64_t kMaxWrittenOffMinor = 1'000'000'000'000'000'000;
inline constexpr int32_t kMaxGraceDays = 60;
inline constexpr int32_t kMaxMissedToDefault = 24;
inline constexpr int32_t kMaxRateBasisPoints = 100'000;  // 1000 % a year

// google.protobuf.Timestamp's own range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
inline constexpr int64_t kMinTimestampSeconds = -62'135'596'800;
inline constexpr int64_t kMaxTimestampSeconds = 253'402'300'799;
// Business time (occurred_at, CheckContact.at) becomes a local date in the consumer's zone, up
// to about 15 hours off UTC: a day's margin keeps that date within years 1..9999 too.
// 0001-01-02T00:00:00Z .. 9999-12-30T23:59:59Z.
inline constexpr int64_t kMinBusinessTimeSeconds = kMinTimestampSeconds + 86'400;
inline constexpr int64_t kMaxBusinessTimeSeconds = kMaxTimestampSeconds - 86'400;

}  // namespace collections
