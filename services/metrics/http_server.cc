#include "services/metrics/http_server.h"

#include <httplib.h>

namespace collections::metrics {

MetricsServer::MetricsServer(const Registry& registry) : registry_(registry) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon + 1 < address.size()) {
    try {
      size_t used = 0;
      port = std::stoi(address.substr(colon + 1), &used);
      if (used != address.size() - colon - 1) port = -1;
    } catch (...) {
      port = -1;
    }
  }
  if (port < 0 || port > 65535) {
    return Error::InvalidArgument("metrics-listen",
                                  "--metrics-listen must be host:port, not \"" + address + "\"");
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  server_ = std::make_unique<httplib::Server>();
  // httplib's default adds SO_REUSEPORT, which would let a second instance share the port and
  // answer half the scrapes; a port in use must fail the start instead.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry_.Render(), kExpositionContentType);
  });
  // Liveness: the process answers. Readiness: the same as gRPC health "" (see set_readiness).
  server_->Get("/live", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("live\n", "text/plain");
  });
  server_->Get("/ready", [this](const httplib::Request&, httplib::Response& response) {
    const bool ready = !ready_ || ready_();
    response.status = ready ? 200 : 503;
    response.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("collections-server metrics: see /metrics\n", "text/plain");
  });
  port_ = port == 0 ? server_->bind_to_any_port(host)
                    : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    port_ = 0;
    server_.reset();
    return Error{Errc::kUnavailable, "LISTEN_FAILED",
                 "metrics: could not listen on " + address + " (in use?)", "metrics-listen",
                 address};
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return std::nullopt;
}

void MetricsServer::Stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace collections::metrics
