#pragma once

// What every collectionsctl command shares: the common flags, the channel to the service
// (mutual TLS as a principal, or plaintext), the call deadline and how a failed call is
// reported. Used from the tool's single thread.

#include "services/common/flags.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace collections::ctl {

inline constexpr char kProgram[] = "collectionsctl";
inline constexpr char kExitCodes[] =
    "Exit codes: 0 ok (chain intact), 1 chain broken, 2 bad usage, 3 the service could not be\n"
    "reached or failed (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL ...), 4 not found (NOT_FOUND),\n"
    "5 refused (PERMISSION_DENIED, UNAUTHENTICATED, INVALID_ARGUMENT, FAILED_PRECONDITION),\n"
    "6 the output file could not be written. Errors name the gRPC status, its reason and every\n"
    "field violation.";

// Flags every command accepts, so they may come before or after the command name.
struct CommonFlags {
  std::string target = "127.0.0.1:50051";
  int timeout_seconds = 600;
  // Mutual TLS: who we are is the client certificate. Defaults: the local CA and the
  // certificates deploy/certs.sh makes under .local/certs, as `as`.
  std::string as;  // principal; default per command (audit: compliance-officer-1)
  std::string certs_dir = ".local/certs";
  std::string ca, cert, key;
  bool plaintext = false;
};

void AddCommon(FlagParser& flags, CommonFlags& common);
// A channel to --target as --as (or `default_principal`); exits with kExitUsage when the
// certificates cannot be read.
std::shared_ptr<grpc::Channel> OpenChannel(const CommonFlags& common,
                                           const std::string& default_principal);
// A client context with the --timeout-seconds deadline.
std::unique_ptr<grpc::ClientContext> Context(const CommonFlags& common);
// Prints what the service answered, by name with its rich details, and returns the exit
// code the README documents for it.
int ServiceError(const CommonFlags& common, const grpc::Status& status);
// Prints a usage error; returns kExitUsage.
int Usage(const std::string& message);

}  // namespace collections::ctl
