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
    case Errc::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case Errc::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status ToGrpcStatus(const Error& error) {
  grpc::StatusCode code = ToGrpcCode(error.code);
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(error.message);

  google::rpc::ErrorInfo info;
  info.set_reason(error.reason);
  info.set_domain("collections.v1");
  if (!error.subject.empty()) (*info.mutable_metadata())["subject"] = error.subject;
  if (!error.field.empty()) (*info.mutable_metadata())["field"] = error.field;
  for (const auto& [k, v] : error.metadata) (*info.mutable_metadata())[k] = v;
  details.add_details()->PackFrom(info);

  switch (error.code) {
    case Errc::kInvalidArgument: {
      google::rpc::BadRequest bad;
      auto* v = bad.add_field_violations();
      v->set_field(error.field);
      v->set_description(error.message);
      details.add_details()->PackFrom(bad);
      break;
    }
    case Errc::kFailedPrecondition:
    case Errc::kAborted: {
      google::rpc::PreconditionFailure failure;
      auto* v = failure.add_violations();
      v->set_type(error.reason);
      v->set_subject(error.subject);
      v->set_description(error.message);
      details.add_details()->PackFrom(failure);
      break;
    }
    case Errc::kNotFound:
    case Errc::kAlreadyExists: {
      google::rpc::ResourceInfo resource;
      resource.set_resource_type(error.field.empty() ? "account" : error.field);
      resource.set_resource_name(error.subject);
      resource.set_description(error.message);
      details.add_details()->PackFrom(resource);
      break;
    }
    default:
      break;
  }
  std::string message = error.message;
  if (!error.field.empty() && error.code == Errc::kInvalidArgument)
    message = error.field + ": " + message;
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace collections
