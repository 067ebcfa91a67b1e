#pragma once

#include "services/domain/error.h"
#include "services/metrics/metrics.h"

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace collections::metrics {

// Serves GET /metrics (the registry in the Prometheus text format) over plain HTTP, with
// cpp-httplib, on its own small thread pool.
// Lifetime: Start once, Stop once (the destructor stops it); the registry must outlive it.
class MetricsServer {
 public:
  explicit MetricsServer(const Registry& registry);
  ~MetricsServer();

  // Listens on `address` ("host:port"; port 0 picks a free port). Returns kUnavailable when
  // the address cannot be bound, kInvalidArgument when it is not host:port.
  Status Start(const std::string& address);
  void Stop();

  int port() const { return port_; }

  // What GET /ready answers: 200 "ready" while `ready()` is true, else 503 "not ready". Set
  // before Start(); unset, /ready follows /live. For orchestrators whose probes cannot present a
  // client certificate to the mutual-TLS gRPC port (a Kubernetes grpc probe cannot).
  void set_readiness(std::function<bool()> ready) { ready_ = std::move(ready); }

 private:
  const Registry& registry_;
  std::function<bool()> ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace collections::metrics
