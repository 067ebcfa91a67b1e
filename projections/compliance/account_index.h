#pragma once

#include "projections/compliance/audit_log.h"
#include "projections/compliance/reader_pool.h"
#include "projections/projector/projector.h"
#include "projections/store/store.h"
#include "services/domain/error.h"
#include "services/kafka/kafka.h"

#include "absl/time/time.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace collections::compliance {

// The audit's per-account reads from the account projection's copy of the log (the store's
// "log" rows: every record of the topic under the account it names, with its partition and
// offset), so the audit trail, replay and verification of one account cost that account's
// records instead of a scan of its whole partition.
//
// A read answers for the log as it is when the read starts, exactly as AuditLog::ScanAccount
// does: it asks the broker where the account's partition ends (read_committed), waits until
// the projector has covered that end, and visits the copied records below it. Verification
// goes further and reads each record back from the log at the offset the copy names, so bytes
// changed in the log itself (or records gone from it) are judged as they are in the log.
// When the projection cannot cover the end in time (rebuilding, broker trouble) the read is
// refused with kUnavailable / INDEX_BEHIND and the caller scans the log instead.
//
// Lifetime: borrows the log options, the store and the projector, which must outlive it.
// Threading: thread-safe; the broker is asked for log ends through one reader under a mutex, and
// each read-back borrows a reader of its own from the pool.
class AccountIndex {
 public:
  AccountIndex(const AuditLog& log, const ProjectionStore& store, Projector& projector);
  ~AccountIndex();

  // Visits the records AuditLog::ScanAccount would visit for `account_id`, in the same order,
  // from the projection's copy. The first `skip` records are passed over without being
  // decoded (paging); `skipped` gets how many were (fewer when the account has fewer).
  // Stopping early through the visitor is success.
  Status ScanAccount(const std::string& account_id, absl::Time deadline, int64_t skip,
                     int64_t* skipped, const AuditLog::Visitor& visit) const;

  // The same records, each read back from the log at the offset the copy names; a record the
  // log no longer holds at that offset (or holds for another account) is not visited, so the
  // chain shows the hole. Costs one short read of the log per run of nearby offsets, through a
  // reader borrowed from a small pool kept warm across calls (see ReaderPool); a reader that
  // failed, or a call that ran out of time, does not go back to the pool.
  Status ScanAccountFromLog(const std::string& account_id, absl::Time deadline,
                            const AuditLog::Visitor& visit) const;

  // How long a read waits for the projector to cover the log end before giving up (default
  // 5 s): a live projector is milliseconds behind.
  void set_max_wait(absl::Duration wait) { max_wait_ = wait; }

  // Log readers ScanAccountFromLog has made so far (the pool reuses them).
  int64_t readers_created() const { return readers_->created(); }

 private:
  // The partition of the account and the end of the log there, once the projection covers it.
  Result<std::pair<int32_t, int64_t>> CoveredEnd(const std::string& account_id,
                                                 absl::Time deadline) const;

  const AuditLog& log_;
  const ProjectionStore& store_;
  Projector& projector_;
  absl::Duration max_wait_ = absl::Seconds(5);
  // Verification's readers, reused across calls (thread-safe itself).
  std::unique_ptr<ReaderPool> readers_;
};

}  // namespace collections::compliance
