#include "projections/query/case_query_service.h"

#include "services/api/authorize.h"

#include "projections/query/priority.h"
#include "services/api/deadline.h"
#include "services/api/error_mapping.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/internal.h"

#include "absl/strings/str_cat.h"

#include <mutex>

namespace collections {

// One GetAccount call. Answered exactly once: at once (bad request, refused, position already
// applied), by the waiters' thread (position reached or deadline passed), or by OnCancel when
// the call was cancelled while its wait was still registered. Deletes itself in OnDone.
class GetAccountReactor final : public grpc::ServerUnaryReactor {
 public:
  GetAccountReactor(CaseQueryService& service, grpc::CallbackServerContext* context,
                    const v1::GetAccountRequest* request, v1::Account* reply)
      : service_(service), context_(context), request_(*request), reply_(reply) {}

  void Begin() {
    if (auto refused = RefuseUnauthorized(service_.guard_, *context_,
                                          "collections.v1.CaseQueryService/GetAccount")) {
      return Finish(*refused);
    }
    if (service_.admission_ != nullptr) {
      if (auto refused = service_.admission_->Admit(*context_, &request_)) {
        return Finish(*refused);
      }
    }
    if (request_.account_id().empty()) {
      return Finish(ToGrpcStatus(Error::InvalidArgument("account_id", "account_id is required")));
    }
    if (!request_.has_min_position()) {
      return Finish(service_.ReadAccount(request_.account_id(), reply_));
    }
    const auto& pos = request_.min_position();
    const int32_t partitions = service_.projector_.partitions();
    if (pos.partition() < 0 || pos.partition() >= partitions) {
      return Finish(ToGrpcStatus(Error::InvalidArgument(
          "min_position.partition",
          absl::StrCat("partition ", pos.partition(), " is not a partition of the topic (0 to ",
                       partitions - 1, ")"))));
    }
    if (pos.offset() < 0) {
      return Finish(ToGrpcStatus(
          Error::InvalidArgument("min_position.offset", "offset must not be negative")));
    }
    // A position the log has not reached cannot be waited for: no command returned it.
    // (When the broker cannot be asked, the wait below is still bounded by the deadline.)
    auto end = service_.projector_.LogEnd(pos.partition(), pos.offset());
    if (end && pos.offset() >= end.value()) {
      return Finish(ToGrpcStatus(Error::InvalidArgument(
          "min_position.offset",
          absl::StrCat("offset ", pos.offset(), " is beyond the end of partition ",
                       pos.partition(), " (the next record will get offset ", end.value(),
                       "); pass a position a command returned"))));
    }
    std::lock_guard lock(mutex_);
    id_ = service_.projector_.waiters().Add(
        pos.partition(), pos.offset(), CallDeadline(context_),
        [this](bool reached) { Complete(reached); });
    if (id_ == 0) {
      const int limit = service_.projector_.waiters().max_waits();
      Finish(ResourceExhausted(
          "TOO_MANY_PARKED_WAITS",
          absl::StrCat(limit,
                       " calls are already waiting for the projection to reach their "
                       "min_position; retry shortly or without min_position"),
          {{"limit", absl::StrCat(limit)}}, absl::Milliseconds(500)));
    }
  }

  void OnCancel() override {
    std::lock_guard lock(mutex_);
    if (id_ != 0 && service_.projector_.waiters().Cancel(id_)) {
      id_ = 0;
      Finish(grpc::Status::CANCELLED);
    }
  }

  void OnDone() override { delete this; }

 private:
  void Complete(bool reached) {
    if (!reached) {
      const auto& pos = request_.min_position();
      return Finish(ToGrpcStatus(
          Error{Errc::kDeadlineExceeded, "PROJECTION_BEHIND",
                absl::StrCat("the projection has not reached partition ", pos.partition(),
                             " offset ", pos.offset(),
                             " before the deadline; retry, or give the call a longer deadline"),
                "min_position", request_.account_id()}));
    }
    Finish(service_.ReadAccount(request_.account_id(), reply_));
  }

  CaseQueryService& service_;
  grpc::CallbackServerContext* const context_;
  const v1::GetAccountRequest& request_;  // gRPC keeps it until OnDone
  v1::Account* const reply_;
  std::mutex mutex_;
  PositionWaiters::Id id_ = 0;  // guarded by mutex_; 0 = no open wait
};

grpc::ServerUnaryReactor* CaseQueryService::GetAccount(grpc::CallbackServerContext* context,
                                                       const v1::GetAccountRequest* request,
                                                       v1::Account* reply) {
  auto* reactor = new GetAccountReactor(*this, context, request, reply);
  reactor->Begin();
  return reactor;
}

grpc::Status CaseQueryService::ReadAccount(const std::string& account_id,
                                           v1::Account* reply) const {
  auto account = store_.GetAccount(account_id);
  if (!account) return ToGrpcStatus(account.error());
  if (!account.value()) {
    if (!projector_.caught_up()) {
      // Rebuilding or catching up: "no such account" may be false. Say so instead.
      return ToGrpcStatus(Error{Errc::kUnavailable, "PROJECTION_REBUILDING",
                                "the projection is still catching up with the event log, so "
                                "account " + account_id +
                                    " may exist; retry shortly (health says SERVING when done)",
                                "", account_id});
    }
    return ToGrpcStatus(Error{Errc::kNotFound, "ACCOUNT_NOT_FOUND",
                              "account " + account_id + " has no case", "", account_id});
  }
  *reply = std::move(*account.value());
  // Integrity bookkeeping is not state; `quarantine` stays, so the caller sees it.
  reply->clear_unsigned_events();
  // Days past due as of now (the stored value is as of the last bucket change).
  const absl::Time now = clock_.Now();
  reply->set_days_past_due(DaysPastDue(*reply, now));
  for (auto& reason : Prioritize(*reply, now).reasons) *reply->add_priority() = std::move(reason);
  return grpc::Status::OK;
}

namespace {

v1::AccountSummary Summarize(const v1::Account& a, absl::Time now) {
  v1::AccountSummary s;
  s.set_account_id(a.account_id());
  s.set_status(a.status());
  s.set_aging_bucket(a.aging_bucket());
  s.set_days_past_due(DaysPastDue(a, now));
  s.set_total_balance_minor(a.total_balance_minor());
  s.set_currency(a.currency());
  s.set_creditor(a.creditor());
  s.set_assignee(a.assignee());
  s.set_queue(a.queue());
  s.set_version(a.version());
  return s;
}

bool Matches(const v1::ListAccountsRequest& r, const v1::Account& a) {
  return (r.status() == v1::ACCOUNT_STATUS_UNSPECIFIED || a.status() == r.status()) &&
         (r.aging_bucket() == v1::AGING_BUCKET_UNSPECIFIED ||
          a.aging_bucket() == r.aging_bucket()) &&
         (r.assignee().empty() || a.assignee() == r.assignee()) &&
         (r.queue().empty() || a.queue() == r.queue()) &&
         (r.creditor().empty() || a.creditor() == r.creditor());
}

}  // namespace

grpc::Status CaseQueryService::ListAccounts(grpc::ServerContext* context,
                                            const v1::ListAccountsRequest* request,
                                            v1::ListAccountsResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.CaseQueryService/ListAccounts")) return *refused;
  if (admission_ != nullptr) {
    if (auto refused = admission_->Admit(*context, request)) return *refused;
  }
  int page_size = request->page_size() == 0 ? 50 : request->page_size();
  if (page_size < 0 || page_size > 500) {
    return ToGrpcStatus(Error::InvalidArgument("page_size", "page_size must be 1..500 (0 = 50)"));
  }
  // Drive the scan from the most selective index given; check the other filters per account.
  std::optional<std::string> prefix;
  if (!request->assignee().empty())
    prefix = IndexPrefix(IndexDimension::kAssignee, request->assignee());
  else if (!request->queue().empty())
    prefix = IndexPrefix(IndexDimension::kQueue, request->queue());
  else if (!request->creditor().empty())
    prefix = IndexPrefix(IndexDimension::kCreditor, request->creditor());
  else if (request->status() != v1::ACCOUNT_STATUS_UNSPECIFIED)
    prefix = IndexPrefix(IndexDimension::kStatus, std::to_string(request->status()));
  else if (request->aging_bucket() != v1::AGING_BUCKET_UNSPECIFIED)
    prefix = IndexPrefix(IndexDimension::kBucket, std::to_string(request->aging_bucket()));

  const absl::Time now = clock_.Now();
  std::string cursor = request->page_token();
  const absl::Time deadline = CallDeadline(context);
  for (;;) {
    auto ids = prefix ? store_.ScanIndex(*prefix, cursor, 500) : store_.ScanAccountIds(cursor, 500);
    if (!ids) return ToGrpcStatus(ids.error());
    for (const auto& id : ids.value()) {
      cursor = id;
      // The list row holds every field Matches and Summarize read, nothing more.
      auto account = store_.GetListRow(id);
      if (!account) return ToGrpcStatus(account.error());
      if (!account.value() || !Matches(*request, *account.value())) continue;
      if (reply->accounts_size() == page_size) {
        // One more match exists: the page ends before it.
        reply->set_next_page_token(reply->accounts(page_size - 1).account_id());
        return grpc::Status::OK;
      }
      *reply->add_accounts() = Summarize(*account.value(), now);
    }
    if (ids.value().size() < 500) return grpc::Status::OK;
    if (absl::Now() > deadline) {
      return ToGrpcStatus(
          Error{Errc::kDeadlineExceeded,
                "LIST_TIMEOUT",
                "the listing did not finish before the deadline; narrow the filters",
                {},
                {}});
    }
  }
}

grpc::Status CaseQueryService::GetWorkQueue(grpc::ServerContext* context,
                                            const v1::GetWorkQueueRequest* request,
                                            v1::GetWorkQueueResponse* reply) {
  if (auto refused = RefuseUnauthorized(guard_, *context, "collections.v1.CaseQueryService/GetWorkQueue")) return *refused;
  if (admission_ != nullptr) {
    if (auto refused = admission_->Admit(*context, request)) return *refused;
  }
  if (request->assignee().empty() == request->queue().empty()) {
    return ToGrpcStatus(
        Error::InvalidArgument("assignee", "give exactly one of assignee and queue"));
  }
  const int limit = request->limit() == 0 ? 50 : request->limit();
  if (limit < 0 || limit > 1000)
    return ToGrpcStatus(Error::InvalidArgument("limit", "limit must be 1..1000"));
  const std::string prefix = request->assignee().empty()
                                 ? IndexPrefix(IndexDimension::kQueue, request->queue())
                                 : IndexPrefix(IndexDimension::kAssignee, request->assignee());
  const absl::Time now = clock_.Now();
  std::vector<v1::WorkItem> items;
  std::string cursor;
  for (;;) {
    auto ids = store_.ScanIndex(prefix, cursor, 1000);
    if (!ids) return ToGrpcStatus(ids.error());
    for (const auto& id : ids.value()) {
      cursor = id;
      // The list row holds every field Prioritize and Summarize read (ListRow).
      auto account = store_.GetListRow(id);
      if (!account) return ToGrpcStatus(account.error());
      if (!account.value()) continue;
      Priority p = Prioritize(*account.value(), now);
      if (!p.actionable) continue;
      v1::WorkItem item;
      *item.mutable_account() = Summarize(*account.value(), now);
      item.set_priority(p.score);
      for (auto& r : p.reasons) *item.add_reasons() = std::move(r);
      if (p.contact_allowed_from)
        *item.mutable_contact_allowed_from() = internal::ToProto(*p.contact_allowed_from);
      items.push_back(std::move(item));
    }
    if (ids.value().size() < 1000) break;
  }
  std::stable_sort(items.begin(), items.end(), [](const v1::WorkItem& a, const v1::WorkItem& b) {
    if (a.priority() != b.priority()) return a.priority() > b.priority();
    return a.account().days_past_due() > b.account().days_past_due();
  });
  if (static_cast<int>(items.size()) > limit) items.resize(limit);
  for (auto& item : items) *reply->add_items() = std::move(item);
  *reply->mutable_as_of() = internal::ToProto(now);
  return grpc::Status::OK;
}

}  // namespace collections
