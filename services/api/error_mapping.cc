#include "services/api/error_mapping.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string_view>

namespace collections {

grpc::StatusCode ToGrpcCode(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Errc::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Errc::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case Errc::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case Errc::kAborted:
      return grpc::StatusCode::ABORTED;
    case Errc::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case Errc::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Errc::kInternal:
      return grpc::StatusCode::INTERNAL;
    case Errc::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case Errc::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
  }
  return grpc::StatusCode::INTERNAL;
}

namespace {

// Bounds on what an error sends back. gRPC clients refuse trailers over 8 KiB by default, and
// the message travels twice (grpc-message, and base64 inside grpc-status-details-bin), so the
// whole status stays near 5 KiB whatever the request was.
constexpr size_t kMaxMessageBytes = 512;
constexpr size_t kMaxFieldBytes = 160;
constexpr size_t kMaxDescriptionBytes = 300;
constexpr size_t kMaxValueBytes = 200;        // ErrorInfo metadata values, subjects, types
constexpr size_t kMaxBadRequestBytes = 3000;  // serialized BadRequest

std::vector<FieldViolation> ViolationsOf(const Error& error) {
  if (!error.violations.empty()) return error.violations;
  if (error.field.empty()) return {};
  return {FieldViolation{error.field, error.message}};
}

// The one message of the status, identical in grpc-message and in google.rpc.Status.message.
std::string MessageOf(const Error& error, const std::vector<FieldViolation>& violations,
                      size_t listed) {
  if (error.code != Errc::kInvalidArgument || violations.empty())
    return Truncated(error.message, kMaxMessageBytes);
  if (violations.size() == 1) {
    return Truncated(
        Truncated(violations[0].field, kMaxFieldBytes) + ": " + violations[0].description,
        kMaxMessageBytes);
  }
  std::string message = std::to_string(violations.size()) + " invalid fields";
  if (listed < violations.size())
    message += " (" + std::to_string(violations.size() - listed) + " not listed)";
  message += ": ";
  for (size_t i = 0; i < violations.size(); ++i) {
    if (i > 0) message += "; ";
    message += Truncated(violations[i].field, kMaxFieldBytes) + ": " + violations[i].description;
    if (message.size() > kMaxMessageBytes) break;
  }
  return Truncated(message, kMaxMessageBytes);
}

}  // namespace

grpc::Status ToGrpcStatus(const Error& error) {
  grpc::StatusCode code = ToGrpcCode(error.code);
  const std::vector<FieldViolation> violations = ViolationsOf(error);

  google::rpc::BadRequest bad;
  if (error.code == Errc::kInvalidArgument) {
    for (const FieldViolation& v : violations) {
      google::rpc::BadRequest::FieldViolation entry;
      entry.set_field(Truncated(v.field, kMaxFieldBytes));
      entry.set_description(Truncated(v.description, kMaxDescriptionBytes));
      if (bad.ByteSizeLong() + entry.ByteSizeLong() + 8 > kMaxBadRequestBytes) break;
      *bad.add_field_violations() = std::move(entry);
    }
  }
  const size_t listed = static_cast<size_t>(bad.field_violations_size());
  const std::string message = MessageOf(error, violations, listed);

  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);

  google::rpc::ErrorInfo info;
  info.set_reason(Truncated(error.reason, kMaxValueBytes));
  info.set_domain("collections.v1");
  auto& metadata = *info.mutable_metadata();
  if (!error.subject.empty()) metadata["subject"] = Truncated(error.subject, kMaxValueBytes);
  if (!violations.empty()) {
    metadata["field"] = Truncated(violations[0].field, kMaxFieldBytes);
  } else if (!error.field.empty()) {
    metadata["field"] = Truncated(error.field, kMaxFieldBytes);
  }
  if (listed < violations.size() && error.code == Errc::kInvalidArgument) {
    metadata["violations"] = std::to_string(violations.size());
    metadata["violations_listed"] = std::to_string(listed);
  }
  for (const auto& [k, v] : error.metadata)
    metadata[Truncated(k, kMaxFieldBytes)] = Truncated(v, kMaxValueBytes);
  details.add_details()->PackFrom(info);

  switch (error.code) {
    case Errc::kInvalidArgument:
      details.add_details()->PackFrom(bad);
      break;
    case Errc::kFailedPrecondition:
    case Errc::kAborted: {
      google::rpc::PreconditionFailure failure;
      auto* v = failure.add_violations();
      v->set_type(Truncated(error.reason, kMaxValueBytes));
      v->set_subject(Truncated(error.subject, kMaxValueBytes));
      v->set_description(Truncated(error.message, kMaxDescriptionBytes));
      details.add_details()->PackFrom(failure);
      break;
    }
    case Errc::kNotFound:
    case Errc::kAlreadyExists: {
      google::rpc::ResourceInfo resource;
      resource.set_resource_type(error.field.empty() ? "account"
                                                     : Truncated(error.field, kMaxFieldBytes));
      resource.set_resource_name(Truncated(error.subject, kMaxValueBytes));
      resource.set_description(Truncated(error.message, kMaxDescriptionBytes));
      details.add_details()->PackFrom(resource);
      break;
    }
    default:
      break;
  }
  return grpc::Status(code, message, details.SerializeAsString());
}

namespace {

Errc FromGrpcCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Errc::kInvalidArgument;
    case grpc::StatusCode::NOT_FOUND:
      return Errc::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS:
      return Errc::kAlreadyExists;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return Errc::kFailedPrecondition;
    case grpc::StatusCode::ABORTED:
      return Errc::kAborted;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Errc::kDeadlineExceeded;
    case grpc::StatusCode::INTERNAL:
      return Errc::kInternal;
    case grpc::StatusCode::PERMISSION_DENIED:
      return Errc::kPermissionDenied;
    case grpc::StatusCode::UNAUTHENTICATED:
      return Errc::kUnauthenticated;
    default:  // UNAVAILABLE, and what the domain never says: the outcome is unknown
      return Errc::kUnavailable;
  }
}

// A description as BadRequest keeps it: whether Truncated cut it, and what it kept of it.
bool CutDescription(const FieldViolation& v) {
  return v.description.size() + 3 >= kMaxDescriptionBytes && v.description.ends_with("...");
}
std::string_view Stem(const FieldViolation& v) {
  const size_t kept = v.description.size() - (CutDescription(v) ? 3 : 0);
  return std::string_view(v.description).substr(0, kept);
}

// Whether `message` from `at` reads as violation `v`'s description begins (or ends cut).
bool Begins(std::string_view message, size_t at, const FieldViolation& v) {
  std::string_view shown = message.substr(at);
  if (shown.starts_with(Stem(v))) return true;
  if (!shown.ends_with("...")) return false;
  shown.remove_suffix(3);
  return Stem(v).starts_with(shown);
}

// The violations as MessageOf wrote them into `message` after `header`: "f1: d1; f2: d2 ...",
// cut at kMaxMessageBytes. `listed` are the BadRequest's, whose descriptions are cut at
// kMaxDescriptionBytes; the message may show more of each, and MessageOf must find it again.
// A description the message shows whole is taken from it (up to the next "; field: " after
// which the next description begins); the one the message's cut falls in keeps what both
// show; those after it keep the BadRequest's (the message never reaches them).
std::vector<FieldViolation> FullDescriptions(std::vector<FieldViolation> listed,
                                             std::string_view message, size_t header) {
  size_t pos = header;
  for (size_t i = 0; i < listed.size(); ++i) {
    FieldViolation& v = listed[i];
    const std::string lead = v.field + ": ";
    if (message.substr(pos, lead.size()) != lead) break;
    const size_t start = pos + lead.size();
    const bool cut = CutDescription(v);
    const std::string_view stem = Stem(v);
    if (message.substr(start, stem.size()) != stem) break;
    if (i + 1 < listed.size()) {
      const std::string separator = "; " + listed[i + 1].field + ": ";
      size_t next = message.find(separator, start + stem.size());
      while (next != std::string_view::npos &&
             !Begins(message, next + separator.size(), listed[i + 1])) {
        next = message.find(separator, next + 1);
      }
      if (next != std::string_view::npos) {
        v.description = std::string(message.substr(start, next - start));
        pos = next + 2;
        continue;
      }
    } else if (!message.ends_with("...")) {
      v.description = std::string(message.substr(start));  // the last, shown whole
      break;
    }
    // The message ends inside this description (Truncated's "..."): what it shows, if that is
    // more than the BadRequest's stem, cut the way Truncated cuts.
    std::string_view shown = message.substr(start);
    if (shown.ends_with("...")) shown.remove_suffix(3);
    if (cut && shown.size() > stem.size()) v.description = std::string(shown) + "...";
    break;
  }
  return listed;
}

}  // namespace

Error FromGrpcStatus(const grpc::Status& status) {
  Error error{FromGrpcCode(status.error_code()), "", status.error_message(), "", ""};
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  google::rpc::BadRequest bad;
  bool has_info = false;
  if (details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      if (!has_info && any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info) &&
          info.domain() == "collections.v1") {
        has_info = true;
      } else if (any.Is<google::rpc::BadRequest>()) {
        any.UnpackTo(&bad);
      }
    }
  }
  if (!has_info) return error;
  error.reason = info.reason();
  // Metadata ToGrpcStatus writes from the error's own fields goes back into them; the rest
  // (and "violations"/"violations_listed", which it writes again) stays metadata, sorted.
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : info.metadata()) metadata.emplace(key, value);
  if (auto it = metadata.find("subject"); it != metadata.end()) {
    error.subject = it->second;
    metadata.erase(it);
  }
  if (auto it = metadata.find("field"); it != metadata.end()) {
    error.field = it->second;
    metadata.erase(it);
  }
  if (error.code == Errc::kInvalidArgument && bad.field_violations_size() > 0) {
    for (const auto& v : bad.field_violations()) {
      error.violations.push_back({v.field(), v.description()});
    }
    size_t total = error.violations.size();
    if (auto it = metadata.find("violations"); it != metadata.end()) {
      total = std::max(total, static_cast<size_t>(std::strtoull(it->second.c_str(), nullptr, 10)));
    }
    std::string header;
    if (total > 1) {
      header = std::to_string(total) + " invalid fields";
      if (total > error.violations.size()) {
        header += " (" + std::to_string(total - error.violations.size()) + " not listed)";
      }
      header += ": ";
    }
    if (status.error_message().starts_with(header)) {
      error.violations = FullDescriptions(std::move(error.violations), status.error_message(),
                                          header.size());
    }
    // Those the BadRequest had no room for: as large as any entry can be, so ToGrpcStatus has
    // no room for them either, and counts them as "not listed" again.
    while (error.violations.size() < total) {
      error.violations.push_back(
          {std::string(kMaxFieldBytes, '?'), std::string(kMaxDescriptionBytes, '?')});
    }
  }
  for (auto& [key, value] : metadata) error.metadata.emplace_back(key, value);
  return error;
}

}  // namespace collections
