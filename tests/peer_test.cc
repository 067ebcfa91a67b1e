// Commands forwarded between the processes of a deployment (services/peer), against the real
// broker and real TLS: only the service's own identity may call PeerCommandService; a command
// it forwards runs as the forwarding process stamped it; a refusal reaches the original caller
// as the owner's own; and PeerForwarder, the forwarding half, reaches a real owner (or says
// OWNER_UNREACHABLE).
#define BOOST_TEST_MODULE peer
#include "services/api/error_mapping.h"
#include "services/authz/tls.h"
#include "services/peer/forwarded_command.h"
#include "services/peer/peer_forwarder.h"
#include "tests/support/harness.h"

#include "collections/state/v1/peer_command_service.grpc.pb.h"
#include "collections/v1/customer_command_service.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/status.pb.h"

#include <boost/test/unit_test.hpp>
#include <future>

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
  forwarder.value()->Stop();
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

}  // namespace
}  // namespace collections::testing
