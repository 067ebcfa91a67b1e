#pragma once

#include "services/metrics/metrics.h"

#include <grpcpp/support/server_interceptor.h>

#include <string>

namespace collections::metrics {

// Counts and times every gRPC call the server answers, from a server interceptor, so no
// handler has to remember to:
//   collections_rpc_requests_total{service,rpc,code}      every call, by gRPC status code
//   collections_rpc_duration_seconds{service,rpc}         from the call's start to its status
//   collections_commands_total{rpc,outcome,rule}          CaseCommandService calls: outcome
//       "ok", "blocked" (a compliance rule refused it; rule = the rule id), or the refusal's
//       reason (google.rpc.ErrorInfo.reason, e.g. VERSION_CONFLICT), else the status code name
// It also writes one log line per command, with the request's account, command id and
// correlation id and the caller's principal (the peer's TLS identity, else the request's
// actor): refusals at info, accepted commands at debug.
// Threading: the factory is shared by gRPC's threads; the counters are atomics.
// Lifetime: the registry must outlive the gRPC server the factory is installed in.
class RpcMetricsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsFactory(Registry& registry);
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // What one finished call is counted as (exposed for the unit test).
  struct Outcome {
    std::string outcome;
    std::string rule;
  };
  static Outcome Classify(const grpc::Status& status);

  void Record(const std::string& method, const grpc::Status& status, double seconds);

 private:
  Family<Counter>& requests_;
  Family<Histogram>& duration_;
  Family<Counter>& commands_;
};

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND.
const char* StatusCodeName(grpc::StatusCode code);

}  // namespace collections::metrics
