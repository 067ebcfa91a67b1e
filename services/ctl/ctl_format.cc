#include "services/ctl/ctl_format.h"

#include "projections/compliance/audit.h"
#include "services/domain/currency.h"

#include "absl/strings/str_cat.h"
#include "collections/v1/case_service.pb.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <memory>
#include <vector>

namespace collections::ctl {
namespace {

int64_t Total(const v1::Balances& b) {
  return b.principal_minor() + b.interest_minor() + b.fees_minor() + b.costs_minor();
}

std::string Group(std::string digits) {
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Splits |minor| into integer and fraction digits by `exponent`.
std::pair<std::string, std::string> Split(int64_t minor, int exponent) {
  // Through unsigned so that INT64_MIN has an absolute value.
  const uint64_t magnitude =
      minor < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(minor)
                : static_cast<uint64_t>(minor);
  std::string digits = absl::StrCat(magnitude);
  if (exponent <= 0) return {digits, ""};
  if (digits.size() <= static_cast<size_t>(exponent)) {
    digits.insert(0, static_cast<size_t>(exponent) + 1 - digits.size(), '0');
  }
  const size_t cut = digits.size() - static_cast<size_t>(exponent);
  return {digits.substr(0, cut), digits.substr(cut)};
}

}  // namespace

std::string StatusCodeName(int code) {
  static constexpr const char* kNames[] = {
      "OK",           "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(std::size(kNames))) return kNames[code];
  return absl::StrCat("CODE_", code);
}

int ExitCodeFor(int code) {
  switch (code) {
    case 0:
      return kExitOk;
    case 5:  // NOT_FOUND
      return kExitNotFound;
    case 3:   // INVALID_ARGUMENT
    case 6:   // ALREADY_EXISTS
    case 7:   // PERMISSION_DENIED
    case 9:   // FAILED_PRECONDITION
    case 11:  // OUT_OF_RANGE
    case 16:  // UNAUTHENTICATED
      return kExitRefused;
    default:
      return kExitUnreachable;
  }
}

std::string DescribeStatus(int code, std::string_view message, std::string_view details) {
  std::string out = absl::StrCat(StatusCodeName(code), ": ", std::string(message), "\n");
  google::rpc::Status status;
  if (details.empty() || !status.ParseFromArray(details.data(), static_cast<int>(details.size())))
    return out;
  for (const auto& any : status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    google::rpc::PreconditionFailure precondition;
    if (any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info)) {
      absl::StrAppend(&out, "  reason: ", info.reason());
      if (!info.domain().empty()) absl::StrAppend(&out, " (", info.domain(), ")");
      out.push_back('\n');
      // Sorted, so the same error prints the same way every time.
      std::vector<std::pair<std::string, std::string>> metadata(info.metadata().begin(),
                                                                 info.metadata().end());
      std::sort(metadata.begin(), metadata.end());
      for (const auto& [key, value] : metadata) absl::StrAppend(&out, "  ", key, ": ", value, "\n");
    } else if (any.Is<google::rpc::BadRequest>() && any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        absl::StrAppend(&out, "  field ", v.field(), ": ", v.description(), "\n");
      }
    } else if (any.Is<google::rpc::PreconditionFailure>() && any.UnpackTo(&precondition)) {
      for (const auto& v : precondition.violations()) {
        absl::StrAppend(&out, "  precondition ", v.type(),
                        v.subject().empty() ? "" : absl::StrCat(" ", v.subject()), ": ",
                        v.description(), "\n");
      }
    }
  }
  return out;
}

std::optional<int> Exponent(std::string_view currency) { return CurrencyExponent(currency); }

std::string DecimalAmount(int64_t minor, std::string_view currency) {
  const auto exponent = Exponent(currency);
  const auto [whole, fraction] = Split(minor, exponent.value_or(0));
  return absl::StrCat(minor < 0 ? "-" : "", whole, fraction.empty() ? "" : ".", fraction);
}

std::string Money(int64_t minor, std::string_view currency) {
  const auto exponent = Exponent(currency);
  if (!exponent) return absl::StrCat(minor, " (minor units) ", std::string(currency));
  const auto [whole, fraction] = Split(minor, *exponent);
  return absl::StrCat(minor < 0 ? "-" : "", Group(whole), fraction.empty() ? "" : ".", fraction,
                      " ", std::string(currency));
}

std::optional<int64_t> EventAmountMinor(const v1::EventEnvelope& e) {
  using E = v1::EventEnvelope;
  switch (e.payload_case()) {
    case E::kCaseOpened:
      return Total(e.case_opened().balances());
    case E::kPaymentPosted:
      return e.payment_posted().amount().amount_minor();
    case E::kPaymentReversed:
      return Total(e.payment_reversed().reopened()) + e.payment_reversed().credit_removed_minor();
    case E::kCreditRefunded:
      return e.credit_refunded().amount().amount_minor();
    case E::kAdjustmentPosted:
      return Total(e.adjustment_posted().increase()) - Total(e.adjustment_posted().decrease());
    case E::kPromiseMade:
      return e.promise_made().promise().amount_minor();
    case E::kPromiseKept:
      return e.promise_kept().paid_toward_minor();
    case E::kPromiseBroken:
      return e.promise_broken().paid_toward_minor();
    case E::kPlanProposed: {
      int64_t sum = 0;
      for (const auto& i : e.plan_proposed().plan().instalments()) sum += i.amount_minor();
      return sum;
    }
    case E::kInstalmentMissed:
      return e.instalment_missed().amount_minor();
    case E::kSettlementAgreed:
      return e.settlement_agreed().settlement().amount_minor();
    case E::kSettlementCompleted:
      return Total(e.settlement_completed().written_off());
    case E::kDisputeOpened:
      if (e.dispute_opened().dispute().partial())
        return e.dispute_opened().dispute().disputed_amount_minor();
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string EventCurrency(const v1::EventEnvelope& e) {
  switch (e.payload_case()) {
    case v1::EventEnvelope::kCaseOpened:
      return e.case_opened().currency();
    case v1::EventEnvelope::kPaymentPosted:
      return e.payment_posted().amount().currency();
    case v1::EventEnvelope::kCreditRefunded:
      return e.credit_refunded().amount().currency();
    default:
      return "";
  }
}

std::string EventRule(const v1::EventEnvelope& e) {
  if (e.has_compliance_violation_recorded()) return e.compliance_violation_recorded().rule_id();
  if (e.has_compliance_override_granted()) return e.compliance_override_granted().rule_id();
  return e.decision().rule_id();
}

std::optional<std::string> BlockedRequestJson(const v1::EventEnvelope& e) {
  std::string type, bytes;
  if (e.has_contact_blocked()) {
    type = e.contact_blocked().command_type();
    bytes = e.contact_blocked().command_request();
  } else if (e.has_access_denied()) {
    type = e.access_denied().command_type();
    bytes = e.access_denied().command_request();
  } else {
    return std::nullopt;
  }
  if (type.empty() && bytes.empty()) return std::nullopt;
  // The refused requests are the command messages of case_service.proto; naming one makes
  // sure that file is linked in and registered in the generated pool looked up below.
  (void)v1::RecordContactAttemptRequest::descriptor();
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
  const google::protobuf::Message* prototype =
      descriptor == nullptr
          ? nullptr
          : google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  if (prototype == nullptr) {
    return absl::StrCat(type.empty() ? "(no type)" : type, " (", bytes.size(),
                        " bytes; type unknown to this collectionsctl)");
  }
  std::unique_ptr<google::protobuf::Message> request(prototype->New());
  if (!request->ParseFromString(bytes)) {
    return absl::StrCat(type, " (", bytes.size(), " bytes that do not decode)");
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(*request, &json, options).ok()) {
    return absl::StrCat(type, " ", request->ShortDebugString());
  }
  return absl::StrCat(type, " ", json);
}

std::string EventReason(const v1::EventEnvelope& e) {
  std::vector<std::string> parts = compliance::PayloadReasons(e);
  if (!e.decision().reason().empty()) parts.push_back("decision: " + e.decision().reason());
  if (e.has_late_entry()) {
    parts.push_back(absl::StrCat("late entry: ", e.late_entry().reason(), " (by ",
                                 e.late_entry().authorized_by(), ")"));
  }
  if (auto request = BlockedRequestJson(e)) parts.push_back("request: " + *request);
  return absl::StrJoin(parts, "; ");
}

std::string ShortType(const std::string& type) {
  constexpr std::string_view kPrefix = "collections.v1.";
  return type.rfind(kPrefix, 0) == 0 ? type.substr(kPrefix.size()) : type;
}

std::string EnumSuffix(const std::string& name, std::string_view prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

}  // namespace collections::ctl
