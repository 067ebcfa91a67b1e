#include "projections/query/case_query_service.h"

#include "absl/strings/str_cat.h"
#include "services/api/deadline.h"
#include "services/api/error_mapping.h"

namespace collections {

grpc::Status CaseQueryService::GetAccount(grpc::ServerContext* context,
                                          const v1::GetAccountRequest* request, v1::Account* reply) {
  if (request->account_id().empty()) {
    return ToGrpcStatus(Error::InvalidArgument("account_id", "account_id is required"));
  }
  if (request->has_min_position()) {
    const auto& pos = request->min_position();
    if (pos.partition() < 0 || pos.offset() < 0) {
      return ToGrpcStatus(Error::InvalidArgument("min_position", "partition and offset must not be negative"));
    }
    if (!projector_.WaitForPosition(pos.partition(), pos.offset(), CallDeadline(context))) {
      return ToGrpcStatus(Error{Errc::kDeadlineExceeded, "PROJECTION_BEHIND",
                                absl::StrCat("the projection has not reached partition ", pos.partition(),
                                             " offset ", pos.offset(),
                                             " before the deadline; retry, or give the call a longer deadline"),
                                "min_position", request->account_id()});
    }
  }
  auto account = store_.GetAccount(request->account_id());
  if (!account) return ToGrpcStatus(account.error());
  if (!account.value()) {
    return ToGrpcStatus(Error{Errc::kNotFound, "ACCOUNT_NOT_FOUND",
                              "account " + request->account_id() + " has no case", "",
                              request->account_id()});
  }
  *reply = std::move(*account.value());
  return grpc::Status::OK;
}

}  // namespace collections
