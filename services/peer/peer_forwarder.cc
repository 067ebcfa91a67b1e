#include "services/peer/peer_forwarder.h"

#include "services/api/error_mapping.h"
#include "services/common/log.h"
#include "services/peer/forwarded_command.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <vector>

namespace collections::peer {

struct PeerForwarder::Call {
  grpc::ClientContext context;
  state::v1::ForwardedCommand request;
  state::v1::ForwardedReply reply;
  std::string owner;
  std::string subject;
  PartitionWriter::Completion done;
  PartitionWriter::CustomerPeek peek;
};

Result<std::unique_ptr<PeerForwarder>> PeerForwarder::Create(const authz::TlsOptions& tls,
                                                             bool plaintext) {
  if (plaintext) {
    return std::unique_ptr<PeerForwarder>(new PeerForwarder(grpc::InsecureChannelCredentials()));
  }
  // The server's own certificate as the client's: the owner's door admits only the service's
  // identity (authz::CallGuard::AuthorizePeer).
  auto credentials = authz::MutualTlsChannelCredentials(tls.ca_path, tls.cert_path, tls.key_path);
  if (!credentials) return credentials.error();
  return std::unique_ptr<PeerForwarder>(new PeerForwarder(credentials.value()));
}

PeerForwarder::~PeerForwarder() { Stop(); }

void PeerForwarder::Forward(const std::string& owner, const Command& command, absl::Time deadline,
                            bool dry_run, PartitionWriter::Completion done) {
  Send(owner, AccountId(command), Encode(command, dry_run), deadline, std::move(done), {});
}

void PeerForwarder::Forward(const std::string& owner, const CustomerCommand& command,
                            absl::Time deadline, PartitionWriter::Completion done,
                            PartitionWriter::CustomerPeek peek) {
  Send(owner, CustomerIdOf(command), Encode(command), deadline, std::move(done), std::move(peek));
}

void PeerForwarder::Send(const std::string& owner, std::string subject,
                         state::v1::ForwardedCommand request, absl::Time deadline,
                         PartitionWriter::Completion done, PartitionWriter::CustomerPeek peek) {
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->owner = owner;
  call->subject = std::move(subject);
  call->done = std::move(done);
  call->peek = std::move(peek);
  // The owner runs the command against the caller's own deadline.
  call->context.set_deadline(absl::ToChronoTime(deadline));
  state::v1::PeerCommandService::Stub* stub = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      auto& known = stubs_[owner];
      if (known == nullptr) {
        grpc::ChannelArguments args;
        // A call to an owner whose connection failed fails at once until the channel
        // reconnects: keep that gap short, so a restarted owner is reached within a second.
        args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
        args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
        args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
        known = state::v1::PeerCommandService::NewStub(
            grpc::CreateCustomChannel(owner, credentials_, args));
      }
      stub = known.get();
      in_flight_.insert(call);
    }
  }
  if (stub == nullptr) {
    call->done(Error{Errc::kUnavailable, "SHUTTING_DOWN",
                     "the service is shutting down; retry with the same command_id", "",
                     call->subject});
    return;
  }
  // A Stop() meanwhile has cancelled the context: the call then ends as soon as it starts.
  stub->async()->Execute(&call->context, &call->request, &call->reply,
                         [this, call](grpc::Status status) { Finished(call, status); });
}

void PeerForwarder::Finished(const std::shared_ptr<Call>& call, const grpc::Status& status) {
  if (status.ok()) {
    if (call->peek && call->reply.has_customer()) call->peek(call->reply.customer());
    call->done(std::move(*call->reply.mutable_reply()));
  } else {
    if (call->peek) {
      const auto& trailers = call->context.GetServerTrailingMetadata();
      CustomerState customer;
      if (auto it = trailers.find(kCustomerStateTrailer);
          it != trailers.end() &&
          customer.ParseFromArray(it->second.data(), static_cast<int>(it->second.size()))) {
        call->peek(customer);
      }
    }
    bool abandoned = false;
    if (status.error_code() == grpc::StatusCode::CANCELLED) {
      std::lock_guard lock(mutex_);
      abandoned = abandoned_;
    }
    call->done(abandoned ? Error{Errc::kUnavailable,
                                 "SHUTTING_DOWN",
                                 "the service is shutting down while the command was with the "
                                 "process that writes its partition (" + call->owner +
                                     "); it may or may not be recorded: retry with the same "
                                     "command_id to learn which",
                                 "",
                                 call->subject}
                         : OwnerError(status, call->owner, call->subject));
  }
  // Under the lock: Stop() may return, and the forwarder go, as soon as the set is empty.
  std::lock_guard lock(mutex_);
  in_flight_.erase(call);
  if (in_flight_.empty()) idle_.notify_all();
}

void PeerForwarder::Stop(absl::Time abandon_at) {
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::unique_lock lock(mutex_);
    stopped_ = true;
    if (abandon_at > absl::Now()) {
      idle_.wait_until(lock, absl::ToChronoTime(abandon_at), [this] { return in_flight_.empty(); });
    }
    abandoned_ = true;
    calls.assign(in_flight_.begin(), in_flight_.end());
  }
  // Outside the lock: a cancelled call may be answered on this very thread.
  for (const auto& call : calls) call->context.TryCancel();
  calls.clear();
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return in_flight_.empty(); });
}

Error PeerForwarder::OwnerError(const grpc::Status& status, const std::string& owner,
                                const std::string& subject) {
  Error error = FromGrpcStatus(status);
  // The owner's door refused this process (another identity: the processes' certificates
  // differ) or the command (another release): nothing the caller did, nothing recorded.
  const bool refused_peer = error.reason == "NOT_A_PEER" || error.reason == "UNAUTHENTICATED" ||
                            error.reason == "UNKNOWN_COMMAND_TYPE" ||
                            error.reason == "UNPARSABLE_COMMAND";
  // Otherwise a reason is the owner's answer about the command: handed on as it is.
  if (!error.reason.empty() && !refused_peer) return error;
  if (!refused_peer && error.code == Errc::kDeadlineExceeded) {
    // The router's own words for a command not answered by the call's deadline.
    return Error{Errc::kDeadlineExceeded,
                 "DEADLINE_EXCEEDED",
                 "the command was not committed before the call deadline; it may still be. Retry "
                 "with the same command_id to learn the outcome",
                 {},
                 {}};
  }
  if (refused_peer) {
    LogWarn("peer", "the owner ", owner, " refused a forwarded command (", error.reason, ": ",
            error.message, "): are its certificate and release this process's?");
  }
  return Error{Errc::kUnavailable,
               "OWNER_UNREACHABLE",
               "the process that writes this partition (" + owner + ") " +
                   (refused_peer ? "did not take the forwarded command" : "could not be reached") +
                   " (" + Truncated(error.message, 200) + "); the command " +
                   (refused_peer ? "was not recorded" : "may or may not be recorded") +
                   ": retry with the same command_id",
               "",
               subject,
               {{"owner", owner}}};
}

}  // namespace collections::peer
