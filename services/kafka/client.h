#pragma once

// Internal to the kafka library: what its clients (kafka.cc, membership.cc) share.

#include "services/common/log.h"
#include "services/kafka/kafka.h"

#include "absl/strings/str_cat.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>

namespace collections::kafka::detail {

Error Unavailable(std::string message);
// Applies the common and extra properties; returns the first property librdkafka refused.
Status Configure(RdKafka::Conf& conf, const LogOptions& options,
                 const std::map<std::string, std::string>& own);
LogLevel LibrdkafkaLevel(int severity);
// The log callback of clients made with the C API.
void LogFromC(const rd_kafka_t* rk, int level, const char* facility, const char* text);

// librdkafka's log lines, error events and statistics for one client. Notes when the client
// reports every broker down, so a commit stops waiting for a broker that is gone.
class ClientEvents final : public RdKafka::EventCb {
 public:
  ClientEvents(std::string name, std::function<void(const std::string&)> on_statistics)
      : name_(std::move(name)), on_statistics_(std::move(on_statistics)) {}
  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_ERROR:
        if (event.err() == RdKafka::ERR__ALL_BROKERS_DOWN) brokers_down = true;
        Log(event.fatal() ? LogLevel::kError : LogLevel::kDebug, "librdkafka",
            absl::StrCat(name_, " error ", RdKafka::err2str(event.err()), ": ", event.str()));
        break;
      case RdKafka::Event::EVENT_LOG:
        Log(LibrdkafkaLevel(event.severity()), "librdkafka",
            absl::StrCat(name_, " ", event.fac(), ": ", event.str()));
        break;
      case RdKafka::Event::EVENT_STATS:
        if (on_statistics_) on_statistics_(event.str());
        break;
      default:
        break;
    }
  }
  std::atomic<bool> brokers_down{false};

 private:
  const std::string name_;
  const std::function<void(const std::string&)> on_statistics_;
};

}  // namespace collections::kafka::detail
