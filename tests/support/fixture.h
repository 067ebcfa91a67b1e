#pragma once

// A service on a test clock (ManualClock), with a way to send any command and to move time.
// Shared by the end-to-end tests that need business time under control.

#include "services/domain/internal.h"
#include "tests/support/harness.h"

#include "absl/time/civil_time.h"

#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <string>

namespace collections::testing {

using Stub = v1::CaseCommandService::Stub;

inline absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  absl::LoadTimeZone(name, &tz);
  return tz;
}

inline v1::LocalDate Date(int y, int m, int d) {
  v1::LocalDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

struct ClockedService {
  explicit ClockedService(absl::Time start, const std::string& name = "clocked")
      : clock(start), service(TestOptions(name, dir.path), &clock) {}

  TempDir dir;
  ManualClock clock;
  TestService service;
  v1::CommandReply last;
  int counter = 0;

  template <typename Request>
  grpc::Status Send(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                 v1::CommandReply*),
                    Request r, const std::string& account = "ACC-1",
                    const std::string& role = "collector") {
    r.set_account_id(account);
    if (r.command_id().empty()) r.set_command_id("cmd-" + std::to_string(++counter));
    // The caller is who its certificate says: the default ("collector") calls as the test
    // principal (admin: every command); another role as its test principal "<role>-1".
    auto& stub = StubAs(role == "collector" ? std::string(kTestPrincipal) : role + "-1");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return (stub.*method)(&ctx, r, &last);
  }
  template <typename Request>
  void Must(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, v1::CommandReply*),
            Request r, const std::string& account = "ACC-1",
            const std::string& role = "collector") {
    auto s = Send(method, std::move(r), account, role);
    BOOST_REQUIRE_MESSAGE(s.ok(), Request::descriptor()->name() << ": " << s.error_message());
  }
  // A command stub calling as `principal`, made once per principal.
  Stub& StubAs(const std::string& principal) {
    auto& stub = stubs[principal];
    if (stub == nullptr) stub = service.commands_as(principal);
    return *stub;
  }
  std::map<std::string, std::unique_ptr<Stub>> stubs;
  v1::Account Account(const std::string& id = "ACC-1") {
    v1::Account a;
    auto s = GetAccount(service.queries(), id, &last.position(), &a);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
    return a;
  }
  // Moves the clock and lets every writer emit what fell due; waits for the projection.
  void AdvanceTo(absl::Time t) {
    clock.Set(t);
    auto n = service.app().router().Tick();
    BOOST_REQUIRE(n.ok());
    for (const auto& e : ReadTopic(service.options().log.topic)) {
      BOOST_REQUIRE(service.app().projector().WaitForPosition(e.partition, e.offset,
                                                              absl::Now() + absl::Seconds(20)));
    }
  }
};

}  // namespace collections::testing
