// Commands forwarded between the processes of a deployment (services/peer), against the real
// broker and real TLS: only the service's own identity may call PeerCommandService; a command
// it forwards runs as the forwarding process stamped it; a refusal reaches the original caller
// as the owner's own; PeerForwarder, the forwarding half, reaches a real owner (or says
// OWNER_UNREACHABLE); and two processes of one deployment answer every command between them.
#define BOOST_TEST_MODULE peer
#include "services/api/error_mapping.h"
#include "services/authz/tls.h"
#include "services/peer/forwarded_command.h"
#include "services/kafka/kafka.h"
#include "services/peer/peer_forwarder.h"
#include "tests/support/harness.h"

#include "collections/state/v1/peer_command_service.grpc.pb.h"
#include "collections/v1/customer_command_service.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/status.pb.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <mutex>
#include <map>
#include <boost/test/unit_test.hpp>
#include <future>
#include <set>
#include <thread>

namespace collections::testing {
namespace {

using PeerStub = state::v1::PeerCommandService::Stub;

// One service for the whole file: starting one is the slow part.
TestService& Service() {
  static TempDir* dir = new TempDir();
  static TestService* service = new TestService(TestOptions("peer", dir->path));
  return *service;
}

// Calls as the service itself: the server's own certificate and key as the client's.
std::unique_ptr<PeerStub> AsService(const std::string& address) {
  auto creds =
      authz::MutualTlsChannelCredentials(Pki().ca(), Pki().server().cert, Pki().server().key);
  BOOST_REQUIRE(creds.ok());
  return state::v1::PeerCommandService::NewStub(grpc::CreateChannel(address, creds.value()));
}

grpc::Status Execute(PeerStub& stub, const state::v1::ForwardedCommand& command,
                     state::v1::ForwardedReply* reply, grpc::ClientContext* ctx = nullptr) {
  grpc::ClientContext own;
  if (ctx == nullptr) ctx = &own;
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return stub.Execute(ctx, command, reply);
}

// A request as the forwarding process passes it on: its actor stamped with its caller.
template <typename Request>
Request Stamped(Request r, const std::string& principal, const std::string& role) {
  r.mutable_actor()->set_id(principal);
  r.mutable_actor()->set_role(role);
  r.mutable_actor()->set_kind(v1::ACTOR_KIND_SERVICE);
  return r;
}

// The same status, byte for byte in what a caller reads: code, message, every detail.
void RequireSameStatus(const grpc::Status& got, const grpc::Status& want) {
  BOOST_TEST(static_cast<int>(got.error_code()) == static_cast<int>(want.error_code()));
  BOOST_TEST(got.error_message() == want.error_message());
  google::rpc::Status a, b;
  BOOST_REQUIRE(a.ParseFromString(got.error_details()));
  BOOST_REQUIRE(b.ParseFromString(want.error_details()));
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  BOOST_TEST(differ.Compare(a, b), diff);
}

v1::OpenCustomerRequest Person(const std::string& customer_id, const std::string& command_id) {
  v1::OpenCustomerRequest r;
  r.set_command_id(command_id);
  r.set_customer_id(customer_id);
  r.set_kind(v1::CUSTOMER_KIND_PERSON);
  r.set_name("Jane Doe");
  r.set_currency("USD");
  r.set_time_zone("America/Chicago");
  return Stamped(r, "admin", "admin");
}

size_t EventsOf(const std::string& stream) {
  size_t n = 0;
  for (const auto& e : ReadTopic(Service().options().log.topic)) n += e.key == stream;
  return n;
}

BOOST_AUTO_TEST_CASE(a_client_of_any_role_is_not_a_peer) {
  TestService& service = Service();
  const auto command =
      peer::Encode(Command(Stamped(OpenCase("PEER-DENIED", "open-1"), "admin", "admin")), false);
  for (const std::string& principal : {std::string(kTestPrincipal), std::string("supervisor-1"),
                                      std::string("stranger")}) {
    auto stub = state::v1::PeerCommandService::NewStub(service.channel_as(principal));
    state::v1::ForwardedReply reply;
    grpc::Status s = Execute(*stub, command, &reply);
    BOOST_TEST(static_cast<int>(s.error_code()) ==
                   static_cast<int>(grpc::StatusCode::PERMISSION_DENIED),
               principal << ": " << s.error_message());
    BOOST_TEST(ErrorReason(s) == "NOT_A_PEER");
  }
  BOOST_TEST(EventsOf("PEER-DENIED") == 0u);
}

BOOST_AUTO_TEST_CASE(the_service_identity_runs_the_command_as_the_forwarding_process_stamped_it) {
  TestService& service = Service();
  auto stub = AsService(service.app().address());
  state::v1::ForwardedReply reply;
  grpc::Status s = Execute(
      *stub,
      peer::Encode(Command(Stamped(OpenCase("PEER-1", "open-1"), "collector-1", "collector")),
                   false),
      &reply);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  BOOST_TEST(reply.reply().account_id() == "PEER-1");
  BOOST_TEST(reply.reply().version() == 1);
  BOOST_TEST(!reply.has_customer());
  // The event's actor is the original caller, not the process that forwarded the command.
  auto events = ReadTopic(service.options().log.topic);
  bool found = false;
  for (const auto& e : events) {
    if (e.key != "PEER-1") continue;
    found = true;
    BOOST_TEST(e.envelope.actor().id() == "collector-1");
    BOOST_TEST(e.envelope.actor().role() == "collector");
  }
  BOOST_TEST(found);
  // A dry run decides and appends nothing.
  s = Execute(*stub,
              peer::Encode(Command(Stamped(PostPayment("PEER-1", "pay-dry", "P-1", 1000),
                                           "collector-1", "collector")),
                           true),
              &reply);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  BOOST_TEST(EventsOf("PEER-1") == 1u);
}

BOOST_AUTO_TEST_CASE(a_refusal_is_exactly_the_one_the_owner_gives_its_own_callers) {
  TestService& service = Service();
  auto stub = AsService(service.app().address());
  auto local = [&](const v1::PostPaymentRequest& r) {
    v1::CommandReply out;
    return Call(service.commands(), r, &out);
  };
  // A rule of the state: no case.
  v1::PostPaymentRequest missing = PostPayment("PEER-NONE", "pay-1", "P-1", 1000);
  state::v1::ForwardedReply reply;
  grpc::Status forwarded =
      Execute(*stub, peer::Encode(Command(Stamped(missing, "admin", "admin")), false), &reply);
  BOOST_TEST(static_cast<int>(forwarded.error_code()) ==
             static_cast<int>(grpc::StatusCode::NOT_FOUND));
  RequireSameStatus(forwarded, local(missing));
  // Bad input, validated again by the owner: every wrong field named.
  v1::PostPaymentRequest bad = PostPayment("PEER-1", "", "", -5);
  forwarded = Execute(*stub, peer::Encode(Command(Stamped(bad, "admin", "admin")), false), &reply);
  BOOST_TEST(static_cast<int>(forwarded.error_code()) ==
             static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  RequireSameStatus(forwarded, local(bad));
  // And the forwarding process turns it back into the same status for its caller.
  RequireSameStatus(ToGrpcStatus(FromGrpcStatus(forwarded)), forwarded);
  // A command this release does not know, or bytes that are none.
  state::v1::ForwardedCommand odd = peer::Encode(Command(Stamped(bad, "admin", "admin")), false);
  odd.set_type("collections.v1.LaunchRocketRequest");
  grpc::Status s = Execute(*stub, odd, &reply);
  BOOST_TEST(static_cast<int>(s.error_code()) ==
             static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  BOOST_TEST(BadRequestField(s) == "type");
  odd = peer::Encode(Command(Stamped(bad, "admin", "admin")), false);
  odd.set_command("\xff\xff\xff");
  s = Execute(*stub, odd, &reply);
  BOOST_TEST(static_cast<int>(s.error_code()) ==
             static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  BOOST_TEST(BadRequestField(s) == "command");
}

BOOST_AUTO_TEST_CASE(a_customer_command_brings_the_customer_back_for_the_peek) {
  TestService& service = Service();
  auto stub = AsService(service.app().address());
  state::v1::ForwardedReply reply;
  grpc::Status s =
      Execute(*stub, peer::Encode(CustomerCommand(Person("PEER-C1", "open-c1"))), &reply);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  BOOST_REQUIRE(reply.has_customer());
  BOOST_TEST(reply.customer().customer_id() == "PEER-C1");
  BOOST_TEST(reply.customer().kind() == v1::CUSTOMER_KIND_PERSON);
  BOOST_TEST(reply.customer().time_zone() == "America/Chicago");
  // Refused (the customer exists): the state comes back in the trailer.
  grpc::ClientContext ctx;
  s = Execute(*stub, peer::Encode(CustomerCommand(Person("PEER-C1", "open-c1-again"))), &reply,
              &ctx);
  BOOST_TEST(static_cast<int>(s.error_code()) ==
             static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  auto trailer = ctx.GetServerTrailingMetadata().find(peer::kCustomerStateTrailer);
  BOOST_REQUIRE(trailer != ctx.GetServerTrailingMetadata().end());
  CustomerState customer;
  BOOST_REQUIRE(customer.ParseFromArray(trailer->second.data(), trailer->second.size()));
  BOOST_TEST(customer.customer_id() == "PEER-C1");
  BOOST_TEST(customer.version() == 1);
}

// The forwarding half against a real owner.
Result<v1::CommandReply> Forward(peer::PeerForwarder& forwarder, const std::string& owner,
                                 const Command& command) {
  std::promise<Result<v1::CommandReply>> promise;
  forwarder.Forward(owner, command, absl::Now() + absl::Seconds(20), false,
                    [&promise](Result<v1::CommandReply> r) { promise.set_value(std::move(r)); });
  return promise.get_future().get();
}

BOOST_AUTO_TEST_CASE(the_forwarder_hands_the_owner_answer_on_or_says_the_owner_is_unreachable) {
  TestService& service = Service();
  const std::string owner = service.app().address();
  auto forwarder = peer::PeerForwarder::Create(service.options().tls, false);
  BOOST_REQUIRE(forwarder.ok());
  auto opened = Forward(*forwarder.value(), owner,
                        Command(Stamped(OpenCase("PEER-F1", "open-f1"), "admin", "admin")));
  BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  BOOST_TEST(opened.value().version() == 1);
  // Refused by the owner: the caller of the forwarding process gets the owner's status.
  v1::PostPaymentRequest missing = PostPayment("PEER-NONE", "pay-f1", "P-1", 1000);
  auto refused = Forward(*forwarder.value(), owner, Command(Stamped(missing, "admin", "admin")));
  BOOST_REQUIRE(!refused.ok());
  v1::CommandReply out;
  RequireSameStatus(ToGrpcStatus(refused.error()), Call(service.commands(), missing, &out));
  // A customer command: the peek sees the customer the owner has.
  std::promise<Result<v1::CommandReply>> done;
  std::string peeked_zone;
  forwarder.value()->Forward(
      owner, CustomerCommand(Person("PEER-C2", "open-c2")), absl::Now() + absl::Seconds(20),
      [&done](Result<v1::CommandReply> r) { done.set_value(std::move(r)); },
      [&peeked_zone](const CustomerState& c) { peeked_zone = c.time_zone(); });
  BOOST_TEST(done.get_future().get().ok());
  BOOST_TEST(peeked_zone == "America/Chicago");
  // Nobody listens there.
  auto unreachable = Forward(*forwarder.value(), "127.0.0.1:1",
                             Command(Stamped(OpenCase("PEER-F2", "open-f2"), "admin", "admin")));
  BOOST_REQUIRE(!unreachable.ok());
  BOOST_TEST(static_cast<int>(unreachable.error().code) == static_cast<int>(Errc::kUnavailable));
  BOOST_TEST(unreachable.error().reason == "OWNER_UNREACHABLE");
  BOOST_TEST(unreachable.error().message.find("same command_id") != std::string::npos);
  // Stopped (a shutdown): nothing more goes out.
  forwarder.value()->Stop();
  auto late = Forward(*forwarder.value(), owner,
                      Command(Stamped(OpenCase("PEER-F3", "open-f3"), "admin", "admin")));
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.error().reason == "SHUTTING_DOWN");
}

BOOST_AUTO_TEST_CASE(a_plaintext_deployment_forwards_in_plaintext) {
  TempDir dir;
  ServerOptions options = TestOptions("peer-plain", dir.path);
  options.plaintext = true;
  options.tls = {};
  TestService service(options);
  auto forwarder = peer::PeerForwarder::Create({}, true);
  BOOST_REQUIRE(forwarder.ok());
  auto opened = Forward(*forwarder.value(), service.app().address(),
                        Command(Stamped(OpenCase("PLAIN-1", "open-p1"), "admin", "admin")));
  BOOST_TEST(opened.ok(), (opened.ok() ? "" : opened.error().message));
}

// A port nobody listens on now, for a server whose address its peers must know in advance.
std::string FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  BOOST_REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0);
  BOOST_REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  close(fd);
  return std::to_string(ntohs(address.sin_port));
}

// An id whose stream (`key` of it) is in one of `partitions` of `count`.
std::string IdIn(const std::string& prefix, const std::vector<int32_t>& partitions, int32_t count,
                 std::string (*key)(std::string_view) = nullptr) {
  for (int i = 0;; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    const int32_t p = kafka::PartitionFor(key != nullptr ? key(id) : id, count);
    if (std::find(partitions.begin(), partitions.end(), p) != partitions.end()) return id;
  }
}

std::string CustomerKey(std::string_view id) { return CustomerStreamKey(id); }

// Two processes "a" and "b" of one deployment on 4 partitions (group ownership, a writer
// store directory shared as on one host, addresses known in advance so they forward).
std::pair<ServerOptions, ServerOptions> TwoProcesses(const std::string& name, const TempDir& a_dir,
                                                     const TempDir& b_dir,
                                                     const TempDir& store_dir) {
  ServerOptions a = TestOptions(name, a_dir.path);
  a.log.partitions = 4;
  a.writer.group_ownership = true;
  a.writer.ownership_session_timeout_ms = 6000;
  a.writer.store_path = (store_dir.path / "writer").string();
  a.writer.instance_id = "a";
  a.listen = "127.0.0.1:" + FreePort();
  ServerOptions b = a;
  b.db_path = (b_dir.path / "projection").string();
  b.writer.instance_id = "b";
  b.listen = "127.0.0.1:" + FreePort();
  return {a, b};
}

// The whole path: two processes of one deployment (group ownership, advertised addresses) split
// the partitions, and a caller of either is answered for every account and customer as if that
// process owned them all: the command is forwarded to the owner, runs there as the caller,
// its refusal is the owner's own, and a customer link learns the customer's recorded facts
// across the two (the peek).
BOOST_AUTO_TEST_CASE(a_caller_of_either_process_is_answered_for_every_partition) {
  TempDir a_dir, b_dir, store_dir;
  const auto [a, b] = TwoProcesses("peer-group", a_dir, b_dir, store_dir);
  TestService first(a);
  TestService second(b);
  auto split = [&] {
    auto x = first.app().router().owned();
    auto y = second.app().router().owned();
    std::set<int32_t> all(x.begin(), x.end());
    for (int32_t p : y) {
      if (!all.insert(p).second) return false;
    }
    return !x.empty() && !y.empty() && all.size() == 4u && first.app().router().serving() &&
           second.app().router().serving();
  };
  const auto began = std::chrono::steady_clock::now();
  while (!split() && std::chrono::steady_clock::now() - began < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_REQUIRE(split());
  const std::vector<int32_t> of_first = first.app().router().owned();
  const std::vector<int32_t> of_second = second.app().router().owned();

  // Accounts: each opened through the process that does not own it, as a supervisor.
  v1::CommandReply reply;
  for (int32_t p = 0; p < 4; ++p) {
    const bool firsts = std::find(of_first.begin(), of_first.end(), p) != of_first.end();
    TestService& owner = firsts ? first : second;
    TestService& other = firsts ? second : first;
    const std::string id = IdIn("GRP", {p}, 4);
    auto stub = other.commands_as("supervisor-1");
    grpc::Status s = Call(*stub, OpenCase(id, "open-" + id), &reply);
    BOOST_REQUIRE_MESSAGE(s.ok(), id << ": " << s.error_message());
    BOOST_TEST(reply.version() == 1);
    // A refusal through the other process is the owner's own, byte for byte.
    const auto missing = PostPayment(IdIn("NONE", {p}, 4), "pay-none", "P-1", 100);
    v1::CommandReply ignored;
    RequireSameStatus(Call(*stub, missing, &ignored),
                      Call(*owner.commands_as("supervisor-1"), missing, &ignored));
  }
  for (const auto& e : ReadTopic(a.log.topic)) {
    if (e.key.starts_with("GRP-")) BOOST_TEST(e.envelope.actor().id() == "supervisor-1");
  }

  // A customer whose stream the second process owns, and a case opened with it through the
  // first: the link's account side records the person's zone, which only the customer's state
  // (the peek, forwarded back) tells.
  const std::string customer_id = IdIn("PER", of_second, 4, &CustomerKey);
  auto customers = v1::CustomerCommandService::NewStub(first.channel_as(kTestPrincipal));
  v1::OpenCustomerRequest person = Person(customer_id, "open-" + customer_id);
  person.set_time_zone("America/Denver");
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status s = customers->OpenCustomer(&ctx, person, &reply);
    BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  }
  v1::OpenCaseRequest linked = OpenCase(IdIn("LNK", of_second, 4), "open-linked");
  linked.set_customer_id(customer_id);
  grpc::Status s = Call(first.commands(), linked, &reply);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.error_message());
  int links = 0;
  for (const auto& e : ReadTopic(a.log.topic)) {
    if (e.key != linked.account_id() || !e.envelope.has_account_customer_linked()) continue;
    ++links;
    BOOST_TEST(e.envelope.account_customer_linked().customer_id() == customer_id);
    BOOST_TEST(e.envelope.account_customer_linked().consumer_time_zone() == "America/Denver");
  }
  BOOST_TEST(links == 1);
}

// A process joins while callers keep sending commands to the first one: the partitions that move
// are restored by the newcomer while commands for them are already on their way there, and some
// wait in the old owner's queues. Those commands go on to the new writer and wait for it (within
// their deadline) instead of being answered WRITER_RESTORING or SHUTTING_DOWN; a caller that
// retries by command id on UNAVAILABLE gets every command acknowledged, and each acknowledged
// command is in the log exactly once.
BOOST_AUTO_TEST_CASE(commands_for_a_partition_that_moves_wait_for_its_new_writer) {
  TempDir a_dir, b_dir, store_dir;
  const auto [a, b] = TwoProcesses("peer-move", a_dir, b_dir, store_dir);
  TestService first(a);
  const auto began = std::chrono::steady_clock::now();
  while ((first.app().router().owned().size() != 4u || !first.app().router().serving()) &&
         std::chrono::steady_clock::now() - began < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_REQUIRE(first.app().router().owned().size() == 4u);
  std::vector<std::string> accounts;
  v1::CommandReply reply;
  for (int32_t p = 0; p < 4; ++p) {
    accounts.push_back(IdIn("MOV", {p}, 4));
    BOOST_REQUIRE(Call(first.commands(), OpenCase(accounts.back(), "open-" + accounts.back()),
                       &reply)
                      .ok());
  }

  // Callers through the first process, one command at a time each.
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::map<std::string, int> refusals;  // UNAVAILABLE reasons seen (then retried)
  std::vector<std::string> failures;    // anything else
  std::set<std::string> acknowledged;   // command ids
  std::vector<std::thread> callers;
  // Three callers per account: commands wait in the writers' queues when partitions move.
  for (int caller = 0; caller < 3 * static_cast<int>(accounts.size()); ++caller) {
    const std::string account = accounts[static_cast<size_t>(caller) % accounts.size()];
    callers.emplace_back([&, account, caller] {
      auto stub = first.commands_as("supervisor-1");
      for (int n = 0; !stop; ++n) {
        const std::string command_id =
            "pay-" + account + "-" + std::to_string(caller) + "-" + std::to_string(n);
        for (int attempt = 0;; ++attempt) {
          v1::CommandReply r;
          const grpc::Status s =
              Call(*stub, PostPayment(account, command_id, command_id, 1), &r);
          std::lock_guard lock(mutex);
          if (s.ok()) {
            acknowledged.insert(command_id);
            break;
          }
          if (s.error_code() != grpc::UNAVAILABLE || attempt == 50) {
            failures.push_back(command_id + ": " + s.error_message());
            break;
          }
          ++refusals[ErrorReason(s)];
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  {
    TestService second(b);
    auto split = [&] {
      auto x = first.app().router().owned();
      auto y = second.app().router().owned();
      return !x.empty() && !y.empty() && x.size() + y.size() == 4u &&
             first.app().router().serving() && second.app().router().serving();
    };
    const auto joined = std::chrono::steady_clock::now();
    while (!split() && std::chrono::steady_clock::now() - joined < std::chrono::seconds(60)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_REQUIRE(split());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    stop = true;
    for (auto& t : callers) t.join();
  }
  std::ostringstream seen;
  for (const auto& [reason, n] : refusals) seen << reason << " x" << n << "; ";
  BOOST_TEST_MESSAGE(acknowledged.size() << " commands acknowledged; retried after: "
                                         << seen.str());
  BOOST_TEST(failures.empty(), (failures.empty() ? "" : failures.front()));
  // Neither "restoring" nor "starting" (WRITER_UNAVAILABLE) at the new owner: the wait covers
  // both; nor "shutting down" for those queued at the old owner: they went on to the new one.
  BOOST_TEST(refusals.count("WRITER_RESTORING") == 0u, seen.str());
  BOOST_TEST(refusals.count("WRITER_UNAVAILABLE") == 0u, seen.str());
  BOOST_TEST(refusals.count("SHUTTING_DOWN") == 0u, seen.str());
  BOOST_TEST(acknowledged.size() > accounts.size());
  std::map<std::string, int> logged;
  for (const auto& e : ReadTopic(a.log.topic)) {
    if (e.envelope.command_id().starts_with("pay-MOV") && e.envelope.has_payment_posted()) {
      ++logged[e.envelope.command_id()];
    }
  }
  for (const std::string& id : acknowledged) BOOST_TEST(logged[id] == 1, id);
}

}  // namespace
}  // namespace collections::testing
