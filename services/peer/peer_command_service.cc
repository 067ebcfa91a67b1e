#include "services/peer/peer_command_service.h"

#include "services/api/deadline.h"
#include "services/api/error_mapping.h"
#include "services/domain/case_aggregate.h"
#include "services/peer/forwarded_command.h"

#include <memory>
#include <mutex>
#include <optional>

namespace collections::peer {

grpc::ServerUnaryReactor* PeerCommandService::Execute(grpc::CallbackServerContext* context,
                                                      const state::v1::ForwardedCommand* request,
                                                      state::v1::ForwardedReply* reply) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto refuse = [reactor](const Error& error) {
    reactor->Finish(ToGrpcStatus(error));
    return reactor;
  };
  auto caller = guard_.AuthorizePeer(*context, "collections.state.v1.PeerCommandService/Execute");
  if (!caller) return refuse(caller.error());
  const absl::Time deadline = CallDeadline(context);
  if (!request->customer()) {
    auto command = DecodeCommand(*request);
    if (!command) return refuse(command.error());
    if (auto e = ValidateRequest(command.value())) return refuse(*e);
    router_.ExecuteHere(std::move(command.value()), deadline, request->dry_run(),
                        [reactor, reply](Result<v1::CommandReply> result) {
                          if (!result) {
                            reactor->Finish(ToGrpcStatus(result.error()));
                            return;
                          }
                          *reply->mutable_reply() = std::move(result.value());
                          reactor->Finish(grpc::Status::OK);
                        });
    return reactor;
  }
  auto command = DecodeCustomerCommand(*request);
  if (!command) return refuse(command.error());
  if (auto e = ValidateCustomerRequest(command.value())) return refuse(*e);
  // What the writer shows the peek (on its thread, just before it answers) goes back with the
  // answer, refusal or not: the forwarding side's steps read it either way.
  struct Peeked {
    std::mutex mutex;
    std::optional<CustomerState> customer;
  };
  auto peeked = std::make_shared<Peeked>();
  router_.ExecuteHere(
      std::move(command.value()), deadline,
      [reactor, reply, context, peeked](Result<v1::CommandReply> result) {
        std::optional<CustomerState> customer;
        {
          std::lock_guard lock(peeked->mutex);
          customer = std::move(peeked->customer);
        }
        if (!result) {
          if (customer) {
            context->AddTrailingMetadata(kCustomerStateTrailer, customer->SerializeAsString());
          }
          reactor->Finish(ToGrpcStatus(result.error()));
          return;
        }
        *reply->mutable_reply() = std::move(result.value());
        if (customer) *reply->mutable_customer() = std::move(*customer);
        reactor->Finish(grpc::Status::OK);
      },
      [peeked](const CustomerState& customer) {
        CustomerState state = PeekState(customer);
        std::lock_guard lock(peeked->mutex);
        peeked->customer = std::move(state);
      });
  return reactor;
}

}  // namespace collections::peer
