#pragma once

#include "services/domain/error.h"

#include <grpcpp/support/status.h>

namespace collections {

// The one place a domain Error becomes a grpc::Status. The status carries the message and,
// in grpc-status-details-bin, a google.rpc.Status whose code and message are exactly the
// status's own (what grpc_status.rpc_status.from_call and the other languages' helpers
// require), with:
//   ErrorInfo{reason, domain "collections.v1", metadata{subject, field}}   always
//   BadRequest{field_violations[{field, description}]}  kInvalidArgument: every violation
//   of the request. For one the message is "field: description", for several
//   "N invalid fields: f1: d1; f2: d2 ...".
// Nothing grows with the request: the message is at most 512 bytes, each string at most a
// few hundred, the BadRequest at most 3000 bytes (ErrorInfo metadata "violations" and
// "violations_listed" then say how many were left out), so the trailers stay far below the
// 8 KiB gRPC clients accept.
//   PreconditionFailure{violations[{type=reason, subject, description}]}  kFailedPrecondition,
//   kAborted ResourceInfo{resource_type, resource_name}                      kNotFound,
//   kAlreadyExists
grpc::Status ToGrpcStatus(const Error& error);

// The gRPC code a domain error code maps to.
grpc::StatusCode ToGrpcCode(Errc code);

// The inverse: the Error a status of ToGrpcStatus stands for, so that ToGrpcStatus gives the
// same status again (code, message and every detail). A process that forwarded a command to the
// owner of its partition (services/peer) answers its caller with the owner's refusal this way,
// exactly as if it were its own. Recovered: code; reason, subject, field and the other metadata
// from ErrorInfo; the message; for kInvalidArgument every violation, with its description as
// the message shows it (BadRequest cuts descriptions shorter), and placeholders for those the
// BadRequest left out (so the count and "not listed" come out the same). A status that does not
// carry the service's ErrorInfo (gRPC's own: a transport failure, a deadline) gives its code
// (kUnavailable for codes the domain has none for) and message, and an empty reason.
Error FromGrpcStatus(const grpc::Status& status);

}  // namespace collections
