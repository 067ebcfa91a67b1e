#pragma once

#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace collections {

// The limits a server applies before it does any work for a call. Defaults are generous so
// load tests are not throttled; each is a collections-server flag (README "Limits").
struct AdmissionOptions {
  // Per-principal token bucket: calls per second refilled, and the bucket's size (the burst a
  // principal may send at once). 0 disables the rate limit.
  int rate_per_second = 1000;
  int burst = 2000;
  // Calls reading the log at once (ReplayAccount, ExportEvents, VerifyAuditTrail,
  // GetAuditTrail); each holds a Kafka consumer and a server thread while it streams.
  int max_log_reads = 8;
  // GetAccount calls parked at once waiting for their min_position (they hold no thread, only
  // a small registry entry).
  int max_parked_waits = 1000;
  // Largest request message accepted, in bytes. gRPC's own receive limit is set above it
  // (kTransportSlackBytes), so a request between the two gets REQUEST_TOO_LARGE with details
  // instead of gRPC's own refusal.
  int max_request_bytes = 4 << 20;
  // How many threads the gRPC server may use (grpc::ResourceQuota::SetMaxThreads): sync calls
  // each take one while they run; calls beyond it are refused with RESOURCE_EXHAUSTED.
  int max_server_threads = 256;
};

// How much larger than max_request_bytes the transport accepts before gRPC itself refuses.
// Generous on purpose: gRPC 1.51 drops a call whose body is over its receive limit without
// answering it (the client sees its own deadline expire), so every body up to this size is
// read and refused by Admission with REQUEST_TOO_LARGE instead.
inline constexpr int kTransportSlackBytes = 60 << 20;

// Who a call is from, for per-principal limits. Today: the authenticated peer identity of the
// call's auth context when the transport has one (mTLS), else the peer address without its
// port ("ipv4:10.0.0.7"). A later authentication layer replaces it through
// Admission::SetPrincipalResolver without touching the limits.
std::string PeerPrincipal(const grpc::ServerContextBase& context);

// A RESOURCE_EXHAUSTED status carrying ErrorInfo{reason, metadata} and google.rpc.RetryInfo
// {retry_delay}; its message equals the google.rpc.Status message in the details.
grpc::Status ResourceExhausted(const std::string& reason, const std::string& message,
                               const std::map<std::string, std::string>& metadata,
                               absl::Duration retry_after);

// A token bucket: `rate` tokens per second up to `burst`. Pure (time is passed in), so the unit
// tests drive it without sleeping. Thread-compatible.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst, absl::Time now)
      : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}
  // Takes one token. Returns 0 when it was there, else how long until one will be.
  absl::Duration Take(absl::Time now);
  // True when the bucket is full at `now` (an idle principal; its bucket can be dropped).
  bool Full(absl::Time now) const;

 private:
  void Refill(absl::Time now);
  double rate_;
  double burst_;
  double tokens_;
  absl::Time last_;
};

// Call admission for every service of the server: the per-principal rate limit, the cap on
// concurrent log reads and the request size limit. Handlers call Admit() first; the log-reading
// handlers also hold a LogReadSlot while they stream.
//
// Lifetime: created by the server before the services, outlives them. Threading: thread-safe.
class Admission {
 public:
  using Clock = std::function<absl::Time()>;
  explicit Admission(AdmissionOptions options, Clock clock = nullptr);

  const AdmissionOptions& options() const { return options_; }

  // Replaces PeerPrincipal (e.g. with the authenticated caller once mTLS lands).
  void SetPrincipalResolver(std::function<std::string(const grpc::ServerContextBase&)> resolver);

  // Returns a status to answer the call with instead of serving it: RESOURCE_EXHAUSTED with
  // ErrorInfo RATE_LIMITED {principal} and RetryInfo when the caller's bucket is empty;
  // INVALID_ARGUMENT REQUEST_TOO_LARGE {limit} when `request` is over max_request_bytes.
  // nullopt = serve it.
  std::optional<grpc::Status> Admit(const grpc::ServerContextBase& context,
                                    const google::protobuf::MessageLite* request);

  // Holds one of max_log_reads while a log-reading call streams; releases on destruction.
  class LogReadSlot {
   public:
    explicit LogReadSlot(std::atomic<int>* in_use) : in_use_(in_use) {}
    LogReadSlot(LogReadSlot&& other) noexcept : in_use_(std::exchange(other.in_use_, nullptr)) {}
    LogReadSlot(const LogReadSlot&) = delete;
    LogReadSlot& operator=(const LogReadSlot&) = delete;
    LogReadSlot& operator=(LogReadSlot&&) = delete;
    ~LogReadSlot() {
      if (in_use_ != nullptr) in_use_->fetch_sub(1);
    }

   private:
    std::atomic<int>* in_use_;
  };

  // A slot, or RESOURCE_EXHAUSTED TOO_MANY_LOG_READS {limit} with RetryInfo when all
  // max_log_reads are taken. Never waits.
  std::variant<LogReadSlot, grpc::Status> AcquireLogRead();

  int log_reads_in_use() const { return log_reads_in_use_.load(); }

 private:
  absl::Time Now() const { return clock_ ? clock_() : absl::Now(); }

  const AdmissionOptions options_;
  const Clock clock_;
  std::function<std::string(const grpc::ServerContextBase&)> resolver_;
  std::mutex mutex_;
  std::map<std::string, TokenBucket> buckets_;  // guarded by mutex_
  absl::Time next_sweep_;                       // guarded by mutex_
  std::atomic<int> log_reads_in_use_{0};
};

// Rewrites gRPC's own answer to a request body that does not parse as the method's request
// message (INTERNAL or UNIMPLEMENTED with an empty message) to INVALID_ARGUMENT, reason
// MALFORMED_REQUEST, naming the message type, so it carries ErrorInfo like every other
// refusal. (Oversized bodies are refused by Admission::Admit: see kTransportSlackBytes.)
// Registered with ServerBuilder::experimental().SetInterceptorCreators. Stateless; one
// interceptor per call, on gRPC's threads.
class TransportErrorInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

// The refusal of a request of `size` bytes, over `limit` (INVALID_ARGUMENT, REQUEST_TOO_LARGE).
grpc::Status RequestTooLarge(int64_t size, int limit);
// The refusal of a body that is not a `message_type` (INVALID_ARGUMENT, MALFORMED_REQUEST).
grpc::Status MalformedRequest(const std::string& message_type);

}  // namespace collections
