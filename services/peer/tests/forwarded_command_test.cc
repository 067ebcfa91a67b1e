#define BOOST_TEST_MODULE peer_forwarded_command
#include "services/api/error_mapping.h"
#include "services/peer/forwarded_command.h"
#include "services/peer/peer_forwarder.h"

#include "google/protobuf/util/message_differencer.h"

#include <boost/test/unit_test.hpp>
#include <utility>

namespace collections::peer {
namespace {

using google::protobuf::util::MessageDifferencer;

// One request of every alternative of `Variant`, its shared fields set (and a field of its
// own where it has one), encoded and decoded: the same alternative with the same bytes.
template <typename Variant, typename Decode>
int RoundTripEveryAlternative(Decode decode) {
  constexpr bool customer = std::is_same_v<Variant, CustomerCommand>;
  int checked = 0;
  [&]<size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using Request = std::variant_alternative_t<I, Variant>;
          Request request;
          const std::string name = Request::descriptor()->name();
          request.set_command_id("cmd-" + name);
          request.set_expected_version(7);
          request.mutable_actor()->set_id("collector-1");
          request.mutable_actor()->set_role("collector");
          request.mutable_actor()->set_on_behalf_of("jane");
          request.set_correlation_id("corr-" + name);
          request.mutable_occurred_at()->set_seconds(1756700000);
          const auto* id = Request::descriptor()->FindFieldByName(customer ? "customer_id"
                                                                           : "account_id");
          BOOST_REQUIRE(id != nullptr);
          request.GetReflection()->SetString(&request, id, "ID-" + name);
          const Variant command(request);
          state::v1::ForwardedCommand wire;
          if constexpr (customer) {
            wire = Encode(command);
          } else {
            wire = Encode(command, true);
          }
          BOOST_TEST(wire.type() == Request::descriptor()->full_name());
          BOOST_TEST(wire.customer() == customer);
          BOOST_TEST(wire.dry_run() == !customer);
          // Through the wire as the owner receives it.
          state::v1::ForwardedCommand received;
          BOOST_REQUIRE(received.ParseFromString(wire.SerializeAsString()));
          auto back = decode(received);
          BOOST_REQUIRE_MESSAGE(back.ok(), name << ": " << (back.ok() ? "" : back.error().message));
          BOOST_TEST(back.value().index() == I, name);
          BOOST_TEST(MessageDifferencer::Equals(std::get<I>(back.value()), request), name);
          ++checked;
        }(),
        ...);
  }(std::make_index_sequence<std::variant_size_v<Variant>>());
  return checked;
}

BOOST_AUTO_TEST_CASE(every_account_command_survives_the_wire) {
  const int n = RoundTripEveryAlternative<Command>(
      [](const state::v1::ForwardedCommand& f) { return DecodeCommand(f); });
  BOOST_TEST(n == static_cast<int>(std::variant_size_v<Command>));
}

BOOST_AUTO_TEST_CASE(every_customer_command_survives_the_wire) {
  const int n = RoundTripEveryAlternative<CustomerCommand>(
      [](const state::v1::ForwardedCommand& f) { return DecodeCustomerCommand(f); });
  BOOST_TEST(n == static_cast<int>(std::variant_size_v<CustomerCommand>));
}

BOOST_AUTO_TEST_CASE(fields_of_the_request_survive) {
  v1::PostPaymentRequest payment;
  payment.set_account_id("ACC-1");
  payment.set_payment_id("P-1");
  payment.mutable_amount()->set_amount_minor(1234);
  payment.mutable_amount()->set_currency("USD");
  auto back = DecodeCommand(Encode(Command(payment), false));
  BOOST_REQUIRE(back.ok());
  BOOST_TEST(MessageDifferencer::Equals(std::get<v1::PostPaymentRequest>(back.value()), payment));
  v1::ReceiveCustomerPaymentRequest received;
  received.set_customer_id("CUS-1");
  received.set_payment_id("P-9");
  auto customer = DecodeCustomerCommand(Encode(CustomerCommand(received)));
  BOOST_REQUIRE(customer.ok());
  BOOST_TEST(CustomerIdOf(customer.value()) == "CUS-1");
}

BOOST_AUTO_TEST_CASE(unknown_type_and_unparsable_bytes_are_invalid_arguments_naming_the_field) {
  state::v1::ForwardedCommand wire = Encode(Command(v1::OpenCaseRequest()), false);
  wire.set_type("collections.v1.LaunchRocketRequest");
  auto unknown = DecodeCommand(wire);
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(static_cast<int>(unknown.error().code) == static_cast<int>(Errc::kInvalidArgument));
  BOOST_TEST(unknown.error().reason == "UNKNOWN_COMMAND_TYPE");
  BOOST_TEST(unknown.error().field == "type");
  // A customer's command is not an account's, nor the other way round.
  auto crossed = DecodeCommand(Encode(CustomerCommand(v1::OpenCustomerRequest())));
  BOOST_TEST(!crossed.ok());
  BOOST_TEST(!DecodeCustomerCommand(Encode(Command(v1::OpenCaseRequest()), false)).ok());
  wire = Encode(Command(v1::OpenCaseRequest()), false);
  wire.set_command("\xff\xff\xff\xff");
  auto garbage = DecodeCommand(wire);
  BOOST_REQUIRE(!garbage.ok());
  BOOST_TEST(garbage.error().reason == "UNPARSABLE_COMMAND");
  BOOST_TEST(garbage.error().field == "command");
  BOOST_TEST(ToGrpcStatus(garbage.error()).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

BOOST_AUTO_TEST_CASE(peek_state_keeps_the_recorded_facts_and_drops_the_lists) {
  CustomerState c;
  c.set_customer_id("CUS-1");
  c.set_kind(v1::CUSTOMER_KIND_PERSON);
  c.set_commercial(true);
  c.set_time_zone("America/Chicago");
  c.set_version(12);
  c.add_account_ids("ACC-1");
  c.add_invoices()->set_open_minor(500);
  c.add_payments()->set_payment_id("P-1");
  c.add_unsigned_events("x");
  const CustomerState peek = PeekState(c);
  BOOST_TEST(peek.customer_id() == "CUS-1");
  BOOST_TEST(peek.kind() == v1::CUSTOMER_KIND_PERSON);
  BOOST_TEST(peek.commercial());
  BOOST_TEST(peek.time_zone() == "America/Chicago");
  BOOST_TEST(peek.version() == 12);
  BOOST_TEST(peek.account_ids_size() == 0);
  BOOST_TEST(peek.invoices_size() == 0);
  BOOST_TEST(peek.payments_size() == 0);
  BOOST_TEST(peek.unsigned_events_size() == 0);
}

// What the original caller gets when the owner answered, or did not.
BOOST_AUTO_TEST_CASE(the_owner_refusal_is_handed_on_and_its_absence_is_owner_unreachable) {
  const Error refusal{Errc::kFailedPrecondition, "F5", "outside 08:00-21:00", "", "ACC-1",
                      {{"rule_id", "F5"}}};
  const Error handed = PeerForwarder::OwnerError(ToGrpcStatus(refusal), "10.0.0.2:50051", "ACC-1");
  BOOST_TEST(handed.reason == "F5");
  BOOST_TEST(ToGrpcStatus(handed).error_message() == ToGrpcStatus(refusal).error_message());
  BOOST_TEST(ToGrpcStatus(handed).error_details().size() ==
             ToGrpcStatus(refusal).error_details().size());

  const Error down = PeerForwarder::OwnerError(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed to connect to all addresses"),
      "10.0.0.2:50051", "ACC-1");
  BOOST_TEST(static_cast<int>(down.code) == static_cast<int>(Errc::kUnavailable));
  BOOST_TEST(down.reason == "OWNER_UNREACHABLE");
  BOOST_TEST(down.message.find("retry with the same command_id") != std::string::npos);
  BOOST_TEST(down.message.find("10.0.0.2:50051") != std::string::npos);
  BOOST_TEST(down.subject == "ACC-1");

  const Error not_peer = PeerForwarder::OwnerError(
      ToGrpcStatus(Error{Errc::kPermissionDenied, "NOT_A_PEER", "no", "", "x"}), "h:1", "ACC-1");
  BOOST_TEST(not_peer.reason == "OWNER_UNREACHABLE");
  BOOST_TEST(static_cast<int>(not_peer.code) == static_cast<int>(Errc::kUnavailable));

  const Error late = PeerForwarder::OwnerError(
      grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"), "h:1", "ACC-1");
  BOOST_TEST(static_cast<int>(late.code) == static_cast<int>(Errc::kDeadlineExceeded));
  BOOST_TEST(late.reason == "DEADLINE_EXCEEDED");
}

}  // namespace
}  // namespace collections::peer
