#include "services/metrics/grpc_metrics.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/common/log.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>

#include <chrono>

namespace collections::metrics {
namespace {

constexpr const char* kCommandService = "collections.v1.CaseCommandService";
constexpr const char* kCustomerCommandService = "collections.v1.CustomerCommandService";

class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(RpcMetricsFactory& factory, grpc::experimental::ServerRpcInfo* info)
      : factory_(factory),
        method_(info->method()),
        is_command_(method_.find(kCommandService) == 1),
        start_(std::chrono::steady_clock::now()) {
    // The authenticated peer, when the transport has one (mutual TLS).
    if (const grpc::ServerContextBase* context = info->server_context()) {
      if (auto auth = context->auth_context(); auth && auth->IsPeerAuthenticated()) {
        for (const auto& identity : auth->GetPeerIdentity()) {
          fields_.principal.assign(identity.data(), identity.size());
          break;
        }
      }
    }
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (is_command_ && methods->QueryInterceptionHookPoint(
                           grpc::experimental::InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // Every request of this API is a protobuf message; the ids are read by name.
      if (const auto* request = static_cast<const google::protobuf::Message*>(
              methods->GetRecvMessage())) {
        fields_.account = StringField(*request, "account_id");
        fields_.command_id = StringField(*request, "command_id");
        fields_.correlation_id = StringField(*request, "correlation_id");
        if (fields_.principal.empty()) fields_.principal = ActorId(*request);
      }
    }
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      const grpc::Status status = methods->GetSendStatus();
      factory_.Record(method_, status, elapsed.count());
      if (is_command_) LogCommand(status, elapsed.count());
    }
    methods->Proceed();
  }

 private:
  static std::string StringField(const google::protobuf::Message& message, const char* name) {
    const auto* field = message.GetDescriptor()->FindFieldByName(name);
    if (field == nullptr || field->is_repeated() ||
        field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
      return "";
    }
    return message.GetReflection()->GetString(message, field);
  }
  // The acting user the caller names (collections.v1.Actor.id), until the transport says who
  // the caller is.
  static std::string ActorId(const google::protobuf::Message& message) {
    const auto* field = message.GetDescriptor()->FindFieldByName("actor");
    if (field == nullptr || field->is_repeated() ||
        field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE ||
        !message.GetReflection()->HasField(message, field)) {
      return "";
    }
    return StringField(message.GetReflection()->GetMessage(message, field), "id");
  }

  // One line per command: refusals at info (an operator looks for them), the rest at debug.
  void LogCommand(const grpc::Status& status, double seconds) {
    const auto outcome = RpcMetricsFactory::Classify(status);
    const std::string rpc = method_.substr(method_.rfind('/') + 1);
    const LogLevel level = status.ok() ? LogLevel::kDebug : LogLevel::kInfo;
    if (level < MinLogLevel()) return;
    Log(level, "command", fields_,
        absl::StrCat(rpc, " ", outcome.outcome, outcome.rule.empty() ? "" : " by rule ",
                     outcome.rule, " (", StatusCodeName(status.error_code()), ") in ",
                     static_cast<int64_t>(seconds * 1e6), " us",
                     status.ok() ? "" : ": ", status.error_message()));
  }

  RpcMetricsFactory& factory_;
  const std::string method_;
  const bool is_command_;
  const std::chrono::steady_clock::time_point start_;
  LogFields fields_;
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
  return new RpcMetricsInterceptor(*this, info);
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
  if (service == kCommandService || service == kCustomerCommandService) {
    const Outcome outcome = Classify(status);
    commands_.WithLabels({rpc, outcome.outcome, outcome.rule}).Increment();
  }
}

}  // namespace collections::metrics
