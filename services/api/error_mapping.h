#pragma once

#include "services/domain/error.h"

#include <grpcpp/support/status.h>

namespace collections {

// The one place a domain Error becomes a grpc::Status. The status carries the message and,
// in grpc-status-details-bin, a google.rpc.Status with:
//   ErrorInfo{reason, domain "collections.v1", metadata{subject}}   always
//   BadRequest{field_violations[{field, description}]}              kInvalidArgument
//   PreconditionFailure{violations[{type=reason, subject, description}]}  kFailedPrecondition,
//   kAborted ResourceInfo{resource_type, resource_name}                      kNotFound,
//   kAlreadyExists
grpc::Status ToGrpcStatus(const Error& error);

// The gRPC code a domain error code maps to.
grpc::StatusCode ToGrpcCode(Errc code);

}  // namespace collections
