#include "services/ctl/ctl_client.h"

#include "services/authz/tls.h"
#include "services/ctl/ctl_format.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace collections::ctl {
namespace {

// The certificates directory: `dir` as given, except that the default (.local/certs, relative
// to the repository root) falls back to the certs beside the installed tool
// (<repo>/.local/bin/collectionsctl -> <repo>/.local/certs), so the tool deploy/up.sh installs
// works from any directory.
std::string CertsDir(const std::string& dir) {
  if (dir != ".local/certs" || std::filesystem::exists(dir)) return dir;
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return dir;
  const auto beside = exe.parent_path().parent_path() / "certs";
  return std::filesystem::exists(beside, error) ? beside.string() : dir;
}

}  // namespace

void AddCommon(FlagParser& flags, CommonFlags& common) {
  flags.SetEnvPrefix("COLLECTIONSCTL_");
  flags.Add("target", &common.target, "address of the collections service (host:port)");
  flags.Add("timeout-seconds", &common.timeout_seconds,
            "deadline of each call; reading a large log for --all or a period takes a while");
  flags.Add("as", &common.as,
            "call as this principal: uses <certs-dir>/<as>.pem and .key (default: "
            "compliance-officer-1 for replay/verify/export/timeline and the customer reads "
            "customer/statement/shutdown-report/customer-queue, reporting-reader for report, "
            "admin for customer commands, collector-1 for recommend-hold, supervisor-1 for "
            "approve-hold and release-hold)");
  flags.Add("certs-dir", &common.certs_dir, "where deploy/certs.sh put the certificates");
  flags.Add("tls-ca", &common.ca, "CA certificate (default: <certs-dir>/ca.pem)");
  flags.Add("tls-cert", &common.cert, "client certificate (default: <certs-dir>/<as>.pem)");
  flags.Add("tls-key", &common.key, "client key (default: <certs-dir>/<as>.key)");
  flags.Add("plaintext", &common.plaintext,
            "connect without TLS (only a server started with --plaintext accepts it)");
}

std::shared_ptr<grpc::Channel> OpenChannel(const CommonFlags& common,
                                           const std::string& default_principal) {
  grpc::ChannelArguments args;
  // A replay step carries the whole account; a long history makes large messages.
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  if (common.plaintext) {
    return grpc::CreateCustomChannel(common.target, grpc::InsecureChannelCredentials(), args);
  }
  const std::string as = common.as.empty() ? default_principal : common.as;
  const std::string certs = CertsDir(common.certs_dir);
  auto creds = authz::MutualTlsChannelCredentials(
      common.ca.empty() ? certs + "/ca.pem" : common.ca,
      common.cert.empty() ? certs + "/" + as + ".pem" : common.cert,
      common.key.empty() ? certs + "/" + as + ".key" : common.key);
  if (!creds) {
    std::fprintf(stderr, "%s: %s (run deploy/certs.sh, or pass --tls-ca/--tls-cert/--tls-key)\n",
                 kProgram, creds.error().message.c_str());
    std::exit(kExitUsage);
  }
  return grpc::CreateCustomChannel(common.target, creds.value(), args);
}

std::unique_ptr<grpc::ClientContext> Context(const CommonFlags& common) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(common.timeout_seconds));
  return context;
}

int ServiceError(const CommonFlags& common, const grpc::Status& status) {
  const int code = static_cast<int>(status.error_code());
  std::string text = DescribeStatus(code, status.error_message(), status.error_details());
  std::fprintf(stderr, "%s: %s: %s", kProgram, common.target.c_str(), text.c_str());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::fprintf(stderr,
                 "  (is the service running? deploy/up.sh starts it; --target names another)\n");
  }
  return ExitCodeFor(code);
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "%s: %s (see --help)\n", kProgram, message.c_str());
  return kExitUsage;
}

}  // namespace collections::ctl
