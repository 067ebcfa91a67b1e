#include "services/api/admission.h"

#include "services/api/error_mapping.h"
#include "services/domain/error.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <grpcpp/security/auth_context.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace collections {

std::string PeerPrincipal(const grpc::ServerContextBase& context) {
  auto auth = context.auth_context();
  if (auth && auth->IsPeerAuthenticated()) {
    std::vector<std::string> names;
    for (const auto& id : auth->GetPeerIdentity()) names.emplace_back(id.data(), id.size());
    if (!names.empty()) return absl::StrJoin(names, ",");
  }
  // "ipv4:127.0.0.1:50412" / "ipv6:[::1]:50412": the port changes with every connection, so
  // a limit keyed by it would be one reconnect away from void.
  // gRPC writes the IPv6 brackets percent-encoded ("ipv6:%5B::1%5D:50412").
  std::string peer = absl::StrReplaceAll(context.peer(), {{"%5B", "["}, {"%5D", "]"}});
  if (peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0) {
    auto colon = peer.rfind(':');
    if (colon != std::string::npos && colon > 4) peer.resize(colon);
  }
  return peer;
}

grpc::Status ResourceExhausted(const std::string& reason, const std::string& message,
                               const std::map<std::string, std::string>& metadata,
                               absl::Duration retry_after) {
  // ErrorInfo and the message are built by the one mapping (ToGrpcStatus); the domain has no
  // "resource exhausted" code, so the code is set here and RetryInfo appended.
  Error error;
  error.code = Errc::kUnavailable;
  error.reason = reason;
  error.message = message;
  for (const auto& [k, v] : metadata) error.metadata.emplace_back(k, v);
  grpc::Status mapped = ToGrpcStatus(error);
  google::rpc::Status details;
  details.ParseFromString(mapped.error_details());
  details.set_code(static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  google::rpc::RetryInfo retry;
  const int64_t millis = std::max<int64_t>(1, absl::ToInt64Milliseconds(retry_after));
  retry.mutable_retry_delay()->set_seconds(millis / 1000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(millis % 1000) * 1000000);
  details.add_details()->PackFrom(retry);
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, details.message(),
                      details.SerializeAsString());
}

grpc::Status RequestTooLarge(int64_t size, int limit) {
  Error error = Error::InvalidArgument(
      "", absl::StrCat("the request is ", size, " bytes; the limit is ", limit, " bytes"));
  error.reason = "REQUEST_TOO_LARGE";
  error.metadata.emplace_back("limit", absl::StrCat(limit));
  return ToGrpcStatus(error);
}

grpc::Status MalformedRequest(const std::string& message_type) {
  Error error = Error::InvalidArgument(
      "", absl::StrCat("the request body is not a valid ",
                       message_type.empty() ? "protobuf message" : message_type));
  error.reason = "MALFORMED_REQUEST";
  if (!message_type.empty()) error.metadata.emplace_back("message_type", message_type);
  return ToGrpcStatus(error);
}

void TokenBucket::Refill(absl::Time now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * rate_);
    last_ = now;
  }
}

absl::Duration TokenBucket::Take(absl::Time now) {
  Refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1.0 - tokens_) / rate_);
}

bool TokenBucket::Full(absl::Time now) const {
  return tokens_ + absl::ToDoubleSeconds(now - last_) * rate_ >= burst_;
}

Admission::Admission(AdmissionOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)), resolver_(PeerPrincipal) {}

void Admission::SetPrincipalResolver(
    std::function<std::string(const grpc::ServerContextBase&)> resolver) {
  std::lock_guard lock(mutex_);
  resolver_ = std::move(resolver);
}

std::optional<grpc::Status> Admission::Admit(const grpc::ServerContextBase& context,
                                             const google::protobuf::MessageLite* request) {
  if (request != nullptr && options_.max_request_bytes > 0) {
    const size_t size = request->ByteSizeLong();
    if (size > static_cast<size_t>(options_.max_request_bytes)) {
      return RequestTooLarge(static_cast<int64_t>(size), options_.max_request_bytes);
    }
  }
  if (options_.rate_per_second <= 0) return std::nullopt;
  std::function<std::string(const grpc::ServerContextBase&)> resolver;
  {
    std::lock_guard lock(mutex_);
    resolver = resolver_;
  }
  const std::string principal = resolver(context);
  const absl::Time now = Now();
  absl::Duration wait;
  {
    std::lock_guard lock(mutex_);
    // Idle principals' buckets are full again; dropping them keeps the map as small as the set
    // of recently active callers.
    if (now >= next_sweep_) {
      for (auto it = buckets_.begin(); it != buckets_.end();) {
        it = it->second.Full(now) ? buckets_.erase(it) : std::next(it);
      }
      next_sweep_ = now + absl::Seconds(10);
    }
    auto it = buckets_.find(principal);
    if (it == buckets_.end()) {
      it = buckets_
               .emplace(principal,
                        TokenBucket(options_.rate_per_second,
                                    std::max(1, options_.burst), now))
               .first;
    }
    wait = it->second.Take(now);
  }
  if (wait == absl::ZeroDuration()) return std::nullopt;
  return ResourceExhausted(
      "RATE_LIMITED",
      absl::StrCat("too many calls from ", principal, " (limit ", options_.rate_per_second,
                   "/s, burst ", options_.burst, "); retry after the delay in RetryInfo"),
      {{"principal", principal}}, wait);
}

std::variant<Admission::LogReadSlot, grpc::Status> Admission::AcquireLogRead() {
  int in_use = log_reads_in_use_.load();
  while (in_use < options_.max_log_reads) {
    if (log_reads_in_use_.compare_exchange_weak(in_use, in_use + 1)) {
      return LogReadSlot(&log_reads_in_use_);
    }
  }
  return ResourceExhausted(
      "TOO_MANY_LOG_READS",
      absl::StrCat("the server is already serving ", options_.max_log_reads,
                   " calls that read the log (replay, export, verify, audit trail); retry later"),
      {{"limit", absl::StrCat(options_.max_log_reads)}}, absl::Seconds(1));
}

namespace {

// One per call. What gRPC 1.51 does with a body that does not parse (tests/read_limits_test.cc
// checks it): the handler never runs, no request message is delivered (POST_RECV_MESSAGE sees
// null), and the call ends INTERNAL (sync methods) or UNIMPLEMENTED (callback methods) with
// an empty message and no details.
class TransportErrorInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit TransportErrorInterceptor(std::string method) : method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (methods->GetRecvMessage() != nullptr) received_ = true;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (!received_ && status.error_details().empty()) {
        // Sync handlers answer an unparseable body INTERNAL, callback handlers UNIMPLEMENTED,
        // both with an empty message. A method this server does not know is left alone.
        const std::string type = RequestType();
        if ((status.error_code() == grpc::StatusCode::INTERNAL ||
             status.error_code() == grpc::StatusCode::UNIMPLEMENTED) &&
            status.error_message().empty() && !type.empty()) {
          methods->ModifySendStatus(MalformedRequest(type));
        }
      }
    }
    methods->Proceed();
  }

 private:
  // "/collections.v1.CaseQueryService/GetAccount" -> "collections.v1.GetAccountRequest".
  std::string RequestType() const {
    std::string name = method_;
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    std::replace(name.begin(), name.end(), '/', '.');
    const auto* method =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
    return method != nullptr ? method->input_type()->full_name() : "";
  }

  const std::string method_;
  bool received_ = false;
};

}  // namespace

grpc::experimental::Interceptor* TransportErrorInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new TransportErrorInterceptor(info->method() != nullptr ? info->method() : "");
}

}  // namespace collections
