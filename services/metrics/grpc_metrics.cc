#include "services/metrics/grpc_metrics.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <chrono>

namespace collections::metrics {
namespace {

constexpr const char* kCommandService = "collections.v1.CaseCommandService";

class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(RpcMetricsFactory& factory, std::string method)
      : factory_(factory), method_(std::move(method)), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      factory_.Record(method_, methods->GetSendStatus(), elapsed.count());
    }
    methods->Proceed();
  }

 private:
  RpcMetricsFactory& factory_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace

const char* StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

RpcMetricsFactory::RpcMetricsFactory(Registry& registry)
    : requests_(registry.AddCounter("collections_rpc_requests_total",
                                    "gRPC calls answered, by service, method and status code.",
                                    {"service", "rpc", "code"})),
      duration_(registry.AddHistogram("collections_rpc_duration_seconds",
                                      "gRPC call latency from its start to its status.",
                                      {"service", "rpc"}, LatencyBuckets())),
      commands_(registry.AddCounter(
          "collections_commands_total",
          "Commands answered, by RPC and outcome: ok, blocked (with the compliance rule), or "
          "the refusal's reason.",
          {"rpc", "outcome", "rule"})) {}

grpc::experimental::Interceptor* RpcMetricsFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcMetricsInterceptor(*this, info->method());
}

RpcMetricsFactory::Outcome RpcMetricsFactory::Classify(const grpc::Status& status) {
  if (status.ok()) return {"ok", ""};
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (!any.UnpackTo(&info)) continue;
      if (auto rule = info.metadata().find("rule_id"); rule != info.metadata().end()) {
        return {"blocked", rule->second};
      }
      if (!info.reason().empty()) return {info.reason(), ""};
    }
  }
  return {StatusCodeName(status.error_code()), ""};
}

void RpcMetricsFactory::Record(const std::string& method, const grpc::Status& status,
                               double seconds) {
  // "/collections.v1.CaseCommandService/OpenCase"
  const size_t slash = method.rfind('/');
  const std::string service =
      slash == std::string::npos || slash == 0 ? "" : method.substr(1, slash - 1);
  const std::string rpc = slash == std::string::npos ? method : method.substr(slash + 1);
  requests_.WithLabels({service, rpc, StatusCodeName(status.error_code())}).Increment();
  duration_.WithLabels({service, rpc}).Observe(seconds);
  if (service == kCommandService) {
    const Outcome outcome = Classify(status);
    commands_.WithLabels({rpc, outcome.outcome, outcome.rule}).Increment();
  }
}

}  // namespace collections::metrics
