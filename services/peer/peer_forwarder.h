#pragma once

#include "services/authz/tls.h"
#include "services/domain/error.h"
#include "services/writer/writer.h"

#include "collections/state/v1/peer_command_service.grpc.pb.h"

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace collections::peer {

// Where a command goes when another process of the deployment owns its partition: that
// process's PeerCommandService, called as the service itself (mutual TLS with the server's own
// certificate and key, trusting the same CA; plaintext when the server serves plaintext).
//
// One channel per owner address, kept for the process's life (a deployment has a handful of
// processes), reconnecting within a second of an owner coming back. Calls use gRPC's callback
// API: no thread waits for an owner. The owner's answer is handed on as it came: a refusal
// becomes the same domain Error again (FromGrpcStatus), so the original caller gets the status
// the owner would have given it. When the owner could not be reached, or did not take the call
// (it refused this process as a peer, or does not know the command: another release), the
// command is answered UNAVAILABLE (OWNER_UNREACHABLE): retry with the same command_id, which
// is always safe (the command may have been recorded if the connection broke after sending).
//
// Thread-safe. Lifetime: Stop() answers every call once and for all; call it while whoever
// gave the completions (the router, the gRPC calls) is still alive.
class PeerForwarder final : public CommandForwarder {
 public:
  // Reads the TLS files (kInvalidArgument naming the one it cannot read) unless `plaintext`.
  static Result<std::unique_ptr<PeerForwarder>> Create(const authz::TlsOptions& tls,
                                                       bool plaintext);
  ~PeerForwarder() override;

  void Forward(const std::string& owner, const Command& command, absl::Time deadline,
               bool dry_run, PartitionWriter::Completion done) override;
  void Forward(const std::string& owner, const CustomerCommand& command, absl::Time deadline,
               PartitionWriter::Completion done, PartitionWriter::CustomerPeek peek) override;

  // Shutdown: takes no more calls (answered UNAVAILABLE SHUTTING_DOWN at once), lets those in
  // flight finish until `abandon_at`, then cancels the rest (answered UNAVAILABLE
  // SHUTTING_DOWN: the owner may still record the command, so retry with the same command_id)
  // and returns once every call has been answered.
  void Stop(absl::Time abandon_at = absl::InfinitePast());

  // The error a call to `owner` about `subject` that failed with `status` is answered with.
  static Error OwnerError(const grpc::Status& status, const std::string& owner,
                          const std::string& subject);

 private:
  struct Call;
  explicit PeerForwarder(std::shared_ptr<grpc::ChannelCredentials> credentials)
      : credentials_(std::move(credentials)) {}
  void Send(const std::string& owner, std::string subject, state::v1::ForwardedCommand request,
            absl::Time deadline, PartitionWriter::Completion done,
            PartitionWriter::CustomerPeek peek);
  void Finished(const std::shared_ptr<Call>& call, const grpc::Status& status);

  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::mutex mutex_;
  std::condition_variable idle_;
  // Owner address -> its stub (which holds the channel). Guarded by mutex_.
  std::map<std::string, std::unique_ptr<state::v1::PeerCommandService::Stub>> stubs_;
  std::set<std::shared_ptr<Call>> in_flight_;  // guarded by mutex_
  bool stopped_ = false;                       // guarded by mutex_
  bool abandoned_ = false;  // guarded by mutex_: Stop() cancelled what was left
};

}  // namespace collections::peer
