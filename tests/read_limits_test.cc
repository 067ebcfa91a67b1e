// The read side under load and hostile input, against the real broker, RocksDB and gRPC
// server: a replay of a 5,000-event account and an export stream in bounded memory, the cap on
// concurrent log reads, GetAccount calls parked without a thread each, min_position checked
// against the log, the per-principal rate limit, and gRPC-level wrong input (a body that is
// not protobuf, a request over the size limit) answered INVALID_ARGUMENT with ErrorInfo.
#define BOOST_TEST_MODULE read_limits
#include "tests/support/harness.h"

#include "absl/strings/str_cat.h"
#include "collections/v1/compliance_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <boost/test/unit_test.hpp>
#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

namespace collections::testing {
namespace {

// A field of /proc/self/status ("VmRSS", "Threads"), as a number (kB for sizes).
int64_t ProcStatus(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  return -1;
}

// Samples the process's resident memory every 10 ms while it lives; peak() is the highest.
class RssSampler {
 public:
  RssSampler() : thread_([this] {
      while (!stop_) {
        peak_kb_ = std::max<int64_t>(peak_kb_, ProcStatus("VmRSS"));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }) {}
  ~RssSampler() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t peak_mb() const { return peak_kb_.load() / 1024; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_kb_{0};
  std::thread thread_;
};

google::rpc::Status Details(const grpc::Status& status) {
  google::rpc::Status d;
  d.ParseFromString(status.error_details());
  return d;
}

template <typename Detail>
bool FindDetail(const grpc::Status& status, Detail* out) {
  const google::rpc::Status details = Details(status);
  for (const auto& any : details.details()) {
    if (any.UnpackTo(out)) return true;
  }
  return false;
}

std::string Metadata(const grpc::Status& status, const std::string& key) {
  google::rpc::ErrorInfo info;
  if (!FindDetail(status, &info)) return "";
  auto it = info.metadata().find(key);
  return it == info.metadata().end() ? "" : it->second;
}

int Code(const grpc::Status& status) { return static_cast<int>(status.error_code()); }
constexpr int kInvalidArgument = static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT);
constexpr int kResourceExhausted = static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED);

std::unique_ptr<grpc::ClientContext> Context(int seconds = 120) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

// No time-driven event touches an account due in 2099 while the test runs, so the only
// records of its partition are the ones the test writes.
v1::OpenCaseRequest OpenCurrent(const std::string& account_id, int64_t principal_minor) {
  auto r = OpenCase(account_id, "open-" + account_id, principal_minor);
  r.mutable_due_date()->set_year(2099);
  return r;
}

constexpr int kPayments = 5000;
const char kBig[] = "ACC-BIG";

// One service for the read-side tests, with an account of 1 + 5,000 events: built once.
struct ReadSide {
  ReadSide() {
    ServerOptions options = TestOptions("read-limits", dir.path);
    options.admission.max_log_reads = 2;
    options.admission.max_parked_waits = 400;
    service = std::make_unique<TestService>(options);
    compliance = v1::ComplianceService::NewStub(
        grpc::CreateChannel(service->app().address(), grpc::InsecureChannelCredentials()));
    v1::CommandReply reply;
    auto s = Call(service->commands(), OpenCurrent(kBig, 1000000000), &reply);
    if (!s.ok()) throw std::runtime_error(s.error_message());
    // 5,000 payments from 16 callers: the writer group-commits them.
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    std::mutex last_mutex;
    std::vector<std::thread> callers;
    for (int t = 0; t < 16; ++t) {
      callers.emplace_back([&] {
        for (int i = next++; i < kPayments; i = next++) {
          v1::CommandReply r;
          auto status = Call(service->commands(),
                             PostPayment(kBig, absl::StrCat("pay-", i), absl::StrCat("P", i), 1),
                             &r);
          if (!status.ok()) {
            ++failed;
            continue;
          }
          std::lock_guard lock(last_mutex);
          if (r.version() > last.version()) last = r;
        }
      });
    }
    for (auto& c : callers) c.join();
    if (failed > 0) throw std::runtime_error(absl::StrCat(failed.load(), " payments failed"));
    v1::Account account;
    s = GetAccount(service->queries(), kBig, &last.position(), &account);
    if (!s.ok() || account.version() != kPayments + 1) {
      throw std::runtime_error("the big account was not projected: " + s.error_message());
    }
  }

  TempDir dir;
  std::unique_ptr<TestService> service;
  std::unique_ptr<v1::ComplianceService::Stub> compliance;
  v1::CommandReply last;
};

// Built by the first test that needs it, torn down before gRPC's globals are.
std::unique_ptr<ReadSide> g_read_side;
ReadSide& Shared() {
  if (!g_read_side) g_read_side = std::make_unique<ReadSide>();
  return *g_read_side;
}
struct TearDown {
  ~TearDown() { g_read_side.reset(); }
};
BOOST_TEST_GLOBAL_FIXTURE(TearDown);

BOOST_AUTO_TEST_CASE(replay_of_a_5000_event_account_streams_in_bounded_memory,
                     *boost::unit_test::timeout(600)) {
  ReadSide& side = Shared();
  v1::ReplayAccountRequest request;
  request.set_account_id(kBig);
  // The default: the state after every step. Before steps were streamed this built every
  // state in memory first (gigabytes for this account).
  const int64_t before_mb = ProcStatus("VmRSS") / 1024;
  RssSampler sampler;
  auto ctx = Context(300);
  auto reader = side.compliance->ReplayAccount(ctx.get(), request);
  v1::ReplayStep step;
  int64_t steps = 0;
  int64_t bytes = 0;
  std::string last_state;
  bool in_order = true;
  while (reader->Read(&step)) {
    ++steps;
    in_order = in_order && step.event().sequence() == steps && step.has_state_after();
    bytes += static_cast<int64_t>(step.ByteSizeLong());
    if (steps == kPayments + 1) last_state = step.state_after().SerializeAsString();
  }
  auto status = reader->Finish();
  sampler.Stop();
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_TEST(steps == kPayments + 1);
  BOOST_TEST(in_order);
  const int64_t growth_mb = sampler.peak_mb() - before_mb;
  BOOST_TEST_MESSAGE("replay streamed " << bytes / (1 << 20) << " MB in " << steps
                                        << " steps; peak RSS growth " << growth_mb << " MB");
  // The stream is far larger than the ceiling, so only streaming can stay under it.
  BOOST_TEST(bytes / (1 << 20) > 400);
  BOOST_TEST(growth_mb < 200);

  // The final state alone, and the events alone.
  v1::Account final_state;
  BOOST_REQUIRE(final_state.ParseFromString(last_state));
  BOOST_TEST(final_state.total_balance_minor() == 1000000000 + 2500 - kPayments);
  for (auto mode : {v1::REPLAY_STATE_MODE_LAST_STEP, v1::REPLAY_STATE_MODE_NONE}) {
    request.set_state_mode(mode);
    auto ctx2 = Context(300);
    auto r = side.compliance->ReplayAccount(ctx2.get(), request);
    int64_t n = 0, with_state = 0;
    std::string state;
    while (r->Read(&step)) {
      ++n;
      if (step.has_state_after()) {
        ++with_state;
        state = step.state_after().SerializeAsString();
      }
    }
    BOOST_REQUIRE(r->Finish().ok());
    BOOST_TEST(n == kPayments + 1);
    if (mode == v1::REPLAY_STATE_MODE_LAST_STEP) {
      BOOST_TEST(with_state == 1);
      BOOST_TEST(step.has_state_after());  // it is the last step that carries it
      BOOST_TEST((state == last_state));
    } else {
      BOOST_TEST(with_state == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(export_streams_every_event_of_the_period_from_the_log,
                     *boost::unit_test::timeout(600)) {
  ReadSide& side = Shared();
  v1::ExportEventsRequest request;
  request.mutable_from()->set_seconds(0);
  request.mutable_to()->set_seconds(4102444800);  // 2100-01-01
  const int64_t before_mb = ProcStatus("VmRSS") / 1024;
  RssSampler sampler;
  auto ctx = Context(300);
  auto reader = side.compliance->ExportEvents(ctx.get(), request);
  v1::AuditEntry entry;
  std::map<std::string, int64_t> last_sequence;
  int64_t entries = 0;
  bool in_sequence = true;
  while (reader->Read(&entry)) {
    ++entries;
    int64_t& last = last_sequence[entry.account_id()];
    in_sequence = in_sequence && entry.sequence() == last + 1;
    last = entry.sequence();
  }
  auto status = reader->Finish();
  sampler.Stop();
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  const auto topic = ReadTopic(side.service->options().log.topic);
  BOOST_TEST(entries == static_cast<int64_t>(topic.size()));
  BOOST_TEST(last_sequence[kBig] == kPayments + 1);
  BOOST_TEST(in_sequence);  // each account's events in order, none missing
  BOOST_TEST_MESSAGE("export: " << entries << " entries, peak RSS growth "
                                << sampler.peak_mb() - before_mb << " MB");
  BOOST_TEST(sampler.peak_mb() - before_mb < 200);
}

BOOST_AUTO_TEST_CASE(log_reads_beyond_the_cap_are_refused_at_once_with_retry_info,
                     *boost::unit_test::timeout(300)) {
  ReadSide& side = Shared();
  // Two replays that the client stops reading: flow control parks them in the middle of the
  // stream, each holding one of the two log-read slots.
  v1::ReplayAccountRequest request;
  request.set_account_id(kBig);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::ReplayStep>>> readers;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(Context(300));
    readers.push_back(side.compliance->ReplayAccount(contexts.back().get(), request));
    v1::ReplayStep step;
    BOOST_REQUIRE(readers.back()->Read(&step));
  }
  v1::GetAuditTrailRequest trail;
  trail.set_account_id(kBig);
  v1::GetAuditTrailResponse page;
  const absl::Time start = absl::Now();
  auto refused = side.compliance->GetAuditTrail(Context().get(), trail, &page);
  BOOST_TEST(absl::Now() - start < absl::Seconds(2));
  BOOST_TEST(Code(refused) == kResourceExhausted);
  BOOST_TEST(ErrorReason(refused) == "TOO_MANY_LOG_READS");
  BOOST_TEST(Metadata(refused, "limit") == "2");
  google::rpc::RetryInfo retry;
  BOOST_TEST(FindDetail(refused, &retry));
  BOOST_TEST(Details(refused).message() == refused.error_message());

  // Cancelled streams give their slots back.
  for (auto& c : contexts) c->TryCancel();
  for (auto& r : readers) r->Finish();
  grpc::Status status;
  const absl::Time until = absl::Now() + absl::Seconds(20);
  do {
    page.Clear();
    status = side.compliance->GetAuditTrail(Context().get(), trail, &page);
    if (status.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (absl::Now() < until);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.error_message());
  BOOST_TEST(page.entries_size() == 100);
  BOOST_TEST(page.next_page_token() == "100");
}

BOOST_AUTO_TEST_CASE(parked_reads_hold_no_thread_and_are_answered_when_the_projection_gets_there,
                     *boost::unit_test::timeout(300)) {
  ReadSide& side = Shared();
  auto& app = side.service->app();
  v1::CommandReply opened;
  BOOST_REQUIRE(Call(side.service->commands(), OpenCurrent("ACC-PARK", 100000), &opened).ok());
  v1::Account account;
  BOOST_REQUIRE(GetAccount(side.service->queries(), "ACC-PARK", &opened.position(), &account).ok());
  // The commit marker after the command's event occupies the next offset: inside the log, so a
  // valid min_position, but applied only when the partition's next record is.
  v1::LogPosition marker = opened.position();
  marker.set_offset(marker.offset() + 1);

  const int64_t threads_before = ProcStatus("Threads");
  constexpr int kParked = 400;
  auto channel = grpc::CreateChannel(app.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::CaseQueryService::NewStub(channel);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::Account> replies(kParked);
  std::vector<std::promise<grpc::Status>> done(kParked);
  v1::GetAccountRequest request;
  request.set_account_id("ACC-PARK");
  *request.mutable_min_position() = marker;
  for (int i = 0; i < kParked; ++i) {
    contexts.push_back(Context(120));
    stub->async()->GetAccount(contexts.back().get(), &request, &replies[i],
                              [&done, i](grpc::Status s) { done[i].set_value(s); });
  }
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (app.projector().waiters().open_waits() < kParked && absl::Now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  BOOST_REQUIRE(app.projector().waiters().open_waits() == kParked);
  const int64_t threads_parked = ProcStatus("Threads");
  BOOST_TEST_MESSAGE("threads: " << threads_before << " before, " << threads_parked << " with "
                                 << kParked << " parked calls");
  BOOST_TEST(threads_parked - threads_before < 40);

  // One more than the cap is refused at once.
  v1::Account extra;
  auto refused = stub->GetAccount(Context(20).get(), request, &extra);
  BOOST_TEST(Code(refused) == kResourceExhausted);
  BOOST_TEST(ErrorReason(refused) == "TOO_MANY_PARKED_WAITS");

  // A cancelled call leaves the registry.
  contexts[0]->TryCancel();
  BOOST_TEST(static_cast<int>(done[0].get_future().get().error_code()) ==
             static_cast<int>(grpc::StatusCode::CANCELLED));
  const absl::Time until_removed = absl::Now() + absl::Seconds(10);
  while (app.projector().waiters().open_waits() != kParked - 1 && absl::Now() < until_removed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  BOOST_TEST(app.projector().waiters().open_waits() == kParked - 1);

  // A parked call whose deadline passes is answered DEADLINE_EXCEEDED then, not later.
  {
    v1::Account late;
    const absl::Time start = absl::Now();
    auto expired = stub->GetAccount(Context(1).get(), request, &late);
    BOOST_TEST(static_cast<int>(expired.error_code()) ==
               static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
    BOOST_TEST(absl::Now() - start < absl::Seconds(3));
    const absl::Time until_gone = absl::Now() + absl::Seconds(5);
    while (app.projector().waiters().open_waits() != kParked - 1 && absl::Now() < until_gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    BOOST_TEST(app.projector().waiters().open_waits() == kParked - 1);
  }

  // The next record of the partition answers every parked call.
  v1::CommandReply paid;
  BOOST_REQUIRE(
      Call(side.service->commands(), PostPayment("ACC-PARK", "park-pay", "PP1", 100), &paid).ok());
  BOOST_TEST(paid.position().partition() == marker.partition());
  int ok = 0;
  for (int i = 1; i < kParked; ++i) {
    auto s = done[i].get_future().get();
    if (s.ok() && replies[i].version() >= 1) ++ok;
  }
  BOOST_TEST(ok == kParked - 1);
  BOOST_TEST(app.projector().waiters().open_waits() == 0);
}

BOOST_AUTO_TEST_CASE(min_position_outside_the_log_is_refused_at_once,
                     *boost::unit_test::timeout(300)) {
  ReadSide& side = Shared();
  v1::Account account;
  v1::LogPosition beyond = side.last.position();
  beyond.set_offset(beyond.offset() + 1000000);
  const absl::Time start = absl::Now();
  auto s = GetAccount(side.service->queries(), kBig, &beyond, &account);
  BOOST_TEST(absl::Now() - start < absl::Seconds(3));  // not after the 20 s deadline
  BOOST_TEST(Code(s) == kInvalidArgument);
  BOOST_TEST(BadRequestField(s) == "min_position.offset");

  v1::LogPosition no_partition;
  no_partition.set_partition(3);  // the test topic has partitions 0, 1, 2
  s = GetAccount(side.service->queries(), kBig, &no_partition, &account);
  BOOST_TEST(Code(s) == kInvalidArgument);
  BOOST_TEST(BadRequestField(s) == "min_position.partition");

  // A position a command returned is inside the log and answered normally.
  s = GetAccount(side.service->queries(), kBig, &side.last.position(), &account);
  BOOST_TEST(s.ok());
}

// Sends `body` as the request of `method`, raw.
grpc::Status RawCall(const std::string& address, const std::string& method,
                     const std::string& body) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  grpc::GenericStub stub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  auto ctx = Context(30);
  stub.UnaryCall(ctx.get(), method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  return done.get_future().get();
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_the_request_message_is_invalid_argument,
                     *boost::unit_test::timeout(300)) {
  ReadSide& side = Shared();
  const std::string garbage = "\xff\xff\xff\xff\xff";
  for (const auto& [method, type] : std::vector<std::pair<std::string, std::string>>{
           {"/collections.v1.CaseCommandService/OpenCase", "collections.v1.OpenCaseRequest"},
           {"/collections.v1.CaseQueryService/GetAccount", "collections.v1.GetAccountRequest"},
           {"/collections.v1.CaseQueryService/ListAccounts", "collections.v1.ListAccountsRequest"},
           {"/collections.v1.ComplianceService/ReplayAccount",
            "collections.v1.ReplayAccountRequest"}}) {
    auto s = RawCall(side.service->app().address(), method, garbage);
    BOOST_TEST_CONTEXT(method) {
      BOOST_TEST(Code(s) == kInvalidArgument);
      BOOST_TEST(ErrorReason(s) == "MALFORMED_REQUEST");
      BOOST_TEST(s.error_message().find("not a valid " + type) != std::string::npos);
      BOOST_TEST(Details(s).message() == s.error_message());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_request_over_the_size_limit_is_invalid_argument_and_appends_nothing,
                     *boost::unit_test::timeout(300)) {
  ReadSide& side = Shared();
  const std::string address = side.service->app().address();
  // Just over the 4 MiB limit, and well over it.
  for (int mib : {5, 40}) {
    auto open = OpenCurrent(absl::StrCat("ACC-HUGE-", mib), 100000);
    open.set_correlation_id(std::string(static_cast<size_t>(mib) << 20, 'x'));
    auto s = RawCall(address, "/collections.v1.CaseCommandService/OpenCase",
                     open.SerializeAsString());
    BOOST_TEST_CONTEXT(mib << " MiB") {
      BOOST_TEST(Code(s) == kInvalidArgument);
      BOOST_TEST(ErrorReason(s) == "REQUEST_TOO_LARGE");
      BOOST_TEST(Metadata(s, "limit") == absl::StrCat(4 << 20));
      v1::Account account;
      BOOST_TEST(Code(GetAccount(side.service->queries(), open.account_id(), nullptr,
                                 &account)) == static_cast<int>(grpc::StatusCode::NOT_FOUND));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_rate_limit_is_per_principal_and_says_when_to_retry,
                     *boost::unit_test::timeout(300)) {
  TempDir dir;
  ServerOptions options = TestOptions("rate-limit", dir.path);
  options.listen = "[::]:0";  // reachable as ::1 and as 127.0.0.1: two peers, two principals
  options.admission.rate_per_second = 5;
  options.admission.burst = 5;
  TestService service(options);
  // Ready first: until the projection has caught up with the log, GetAccount of an unknown
  // account answers UNAVAILABLE (PROJECTION_REBUILDING) rather than NOT_FOUND.
  for (int i = 0; i < 300 && !service.app().projector().caught_up(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_REQUIRE(service.app().projector().caught_up());
  const std::string port = absl::StrCat(service.app().port());
  auto v6 = v1::CaseQueryService::NewStub(
      grpc::CreateChannel("[::1]:" + port, grpc::InsecureChannelCredentials()));
  auto v6_commands = v1::CaseCommandService::NewStub(
      grpc::CreateChannel("[::1]:" + port, grpc::InsecureChannelCredentials()));
  auto v4 = v1::CaseQueryService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials()));

  v1::Account account;
  int served = 0;
  grpc::Status refused;
  for (int i = 0; i < 20 && refused.ok(); ++i) {
    auto s = GetAccount(*v6, "ACC-NONE", nullptr, &account);
    if (Code(s) == kResourceExhausted) {
      refused = s;
    } else {
      ++served;  // NOT_FOUND: served
    }
  }
  BOOST_TEST(served >= 5);
  BOOST_TEST(served <= 7);  // the burst, plus what trickled in meanwhile at 5/s
  BOOST_TEST(ErrorReason(refused) == "RATE_LIMITED");
  BOOST_TEST(Metadata(refused, "principal") == "ipv6:[::1]");
  google::rpc::RetryInfo retry;
  BOOST_REQUIRE(FindDetail(refused, &retry));
  BOOST_TEST(retry.retry_delay().seconds() * 1000000000LL + retry.retry_delay().nanos() > 0);
  BOOST_TEST(Details(refused).message() == refused.error_message());

  // Commands count against the same bucket and a refused one appends nothing.
  v1::CommandReply reply;
  auto command = v6_commands->OpenCase(Context(20).get(), OpenCurrent("ACC-RATE", 100000), &reply);
  BOOST_TEST(Code(command) == kResourceExhausted);

  // Another principal is served meanwhile.
  for (int i = 0; i < 5; ++i) {
    BOOST_TEST(Code(GetAccount(*v4, "ACC-RATE", nullptr, &account)) ==
               static_cast<int>(grpc::StatusCode::NOT_FOUND));
  }
  // And the first one again after the delay it was given.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  BOOST_TEST(Code(GetAccount(*v6, "ACC-RATE", nullptr, &account)) ==
             static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

}  // namespace
}  // namespace collections::testing
