#include "services/api/error_mapping.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace collections {

grpc::StatusCode ToGrpcCode(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Errc::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Errc::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case Errc::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case Errc::kAborted:
      return grpc::StatusCode::ABORTED;
    case Errc::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case Errc::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Errc::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

namespace {

// Bounds on what an error sends back. gRPC clients refuse trailers over 8 KiB by default, and
// the message travels twice (grpc-message, and base64 inside grpc-status-details-bin), so the
// whole status stays near 5 KiB whatever the request was.
constexpr size_t kMaxMessageBytes = 512;
constexpr size_t kMaxFieldBytes = 160;
constexpr size_t kMaxDescriptionBytes = 300;
constexpr size_t kMaxValueBytes = 200;        // ErrorInfo metadata values, subjects, types
constexpr size_t kMaxBadRequestBytes = 3000;  // serialized BadRequest

std::vector<FieldViolation> ViolationsOf(const Error& error) {
  if (!error.violations.empty()) return error.violations;
  if (error.field.empty()) return {};
  return {FieldViolation{error.field, error.message}};
}

// The one message of the status, identical in grpc-message and in google.rpc.Status.message.
std::string MessageOf(const Error& error, const std::vector<FieldViolation>& violations,
                      size_t listed) {
  if (error.code != Errc::kInvalidArgument || violations.empty())
    return Truncated(error.message, kMaxMessageBytes);
  if (violations.size() == 1) {
    return Truncated(
        Truncated(violations[0].field, kMaxFieldBytes) + ": " + violations[0].description,
        kMaxMessageBytes);
  }
  std::string message = std::to_string(violations.size()) + " invalid fields";
  if (listed < violations.size())
    message += " (" + std::to_string(violations.size() - listed) + " not listed)";
  message += ": ";
  for (size_t i = 0; i < violations.size(); ++i) {
    if (i > 0) message += "; ";
    message += Truncated(violations[i].field, kMaxFieldBytes) + ": " + violations[i].description;
    if (message.size() > kMaxMessageBytes) break;
  }
  return Truncated(message, kMaxMessageBytes);
}

}  // namespace

grpc::Status ToGrpcStatus(const Error& error) {
  grpc::StatusCode code = ToGrpcCode(error.code);
  const std::vector<FieldViolation> violations = ViolationsOf(error);

  google::rpc::BadRequest bad;
  if (error.code == Errc::kInvalidArgument) {
    for (const FieldViolation& v : violations) {
      google::rpc::BadRequest::FieldViolation entry;
      entry.set_field(Truncated(v.field, kMaxFieldBytes));
      entry.set_description(Truncated(v.description, kMaxDescriptionBytes));
      if (bad.ByteSizeLong() + entry.ByteSizeLong() + 8 > kMaxBadRequestBytes) break;
      *bad.add_field_violations() = std::move(entry);
    }
  }
  const size_t listed = static_cast<size_t>(bad.field_violations_size());
  const std::string message = MessageOf(error, violations, listed);

  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);

  google::rpc::ErrorInfo info;
  info.set_reason(Truncated(error.reason, kMaxValueBytes));
  info.set_domain("collections.v1");
  auto& metadata = *info.mutable_metadata();
  if (!error.subject.empty()) metadata["subject"] = Truncated(error.subject, kMaxValueBytes);
  if (!violations.empty()) {
    metadata["field"] = Truncated(violations[0].field, kMaxFieldBytes);
  } else if (!error.field.empty()) {
    metadata["field"] = Truncated(error.field, kMaxFieldBytes);
  }
  if (listed < violations.size() && error.code == Errc::kInvalidArgument) {
    metadata["violations"] = std::to_string(violations.size());
    metadata["violations_listed"] = std::to_string(listed);
  }
  for (const auto& [k, v] : error.metadata)
    metadata[Truncated(k, kMaxFieldBytes)] = Truncated(v, kMaxValueBytes);
  details.add_details()->PackFrom(info);

  switch (error.code) {
    case Errc::kInvalidArgument:
      details.add_details()->PackFrom(bad);
      break;
    case Errc::kFailedPrecondition:
    case Errc::kAborted: {
      google::rpc::PreconditionFailure failure;
      auto* v = failure.add_violations();
      v->set_type(Truncated(error.reason, kMaxValueBytes));
      v->set_subject(Truncated(error.subject, kMaxValueBytes));
      v->set_description(Truncated(error.message, kMaxDescriptionBytes));
      details.add_details()->PackFrom(failure);
      break;
    }
    case Errc::kNotFound:
    case Errc::kAlreadyExists: {
      google::rpc::ResourceInfo resource;
      resource.set_resource_type(error.field.empty() ? "account"
                                                     : Truncated(error.field, kMaxFieldBytes));
      resource.set_resource_name(Truncated(error.subject, kMaxValueBytes));
      resource.set_description(Truncated(error.message, kMaxDescriptionBytes));
      details.add_details()->PackFrom(resource);
      break;
    }
    default:
      break;
  }
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace collections
