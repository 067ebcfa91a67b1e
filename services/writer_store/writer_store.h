#pragma once

#include "services/domain/case_aggregate.h"
#include "services/domain/error.h"

#include "absl/time/time.h"
#include "collections/state/v1/account_state.pb.h"
#include "collections/state/v1/customer_state.pb.h"
#include "collections/v1/case_service.pb.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rocksdb {
class DB;
class Env;
}  // namespace rocksdb

namespace collections {

using AccountState = state::v1::AccountState;
using CustomerState = state::v1::CustomerState;

// What the writer remembers of a committed command: enough to answer a repeat of it.
struct CommandRecord {
  std::string fingerprint;  // SHA-256 of the request; another request with the id is refused
  v1::CommandReply reply;
  // Set when the command was refused and the refusal recorded (ContactBlocked, AccessDenied):
  // a repeat gets the same refusal, except a compliance block (`blocked`), which a repeat
  // re-evaluates (the window may have opened since).
  std::optional<Error> refusal;
  bool blocked = false;
};
// Bytes of a record as the store keeps it, and back (nullopt: not a record).
std::string EncodeCommandRecord(const CommandRecord& record);
std::optional<CommandRecord> DecodeCommandRecord(const std::string& bytes);

// The state of one partition writer on disk: a RocksDB.
//
// Keys (one keyspace, prefixed):
//   m/offset                      next partition offset the state does not reflect (8 bytes BE)
//   m/topic                       the topic and partition the state belongs to
//   m/layout                      what the values are (Layout()); absent = layout 1, v1.Account
//   a/<account id>                the writer's internal collections.state.v1.AccountState
//   u/<customer stream key>       a customer's collections.state.v1.CustomerState, keyed by its
//                                 stream ("customer/<id>"; layout 3 on)
//   c/<stream id>\0<command id>   an encoded CommandRecord (an account's or a customer's)
//   d/<due, unix micros 8B BE><account id>   the account's next time-driven event is due
//
// Every change goes in with one Batch that also moves m/offset, so the store always holds the
// state after a whole prefix of the log. Lifetime: owned by one PartitionWriter; used from its
// thread only (RocksDB itself is thread-safe, the writer does not need it to be).
class WriterStore {
 public:
  ~WriterStore();
  WriterStore(const WriterStore&) = delete;
  WriterStore& operator=(const WriterStore&) = delete;

  // Opens (creating if missing) the store at `path`; an empty path keeps it in memory only
  // (nothing survives the process). A store that cannot be opened is returned as the error
  // (the writer then destroys it and restores from the log).
  static Result<std::unique_ptr<WriterStore>> Open(const std::string& path);
  // Deletes the store at `path` (nothing when it does not exist).
  static Status Destroy(const std::string& path);

  const std::string& path() const { return path_; }

  // The offset after the last record the state reflects, and whose partition it is; nullopt
  // for an empty store.
  struct Checkpoint {
    int64_t next_offset = 0;
    std::string owner;  // "<topic>/<partition>"
  };
  // The checkpoint, when the store was written under `layout` (Layout() of the writer's contact
  // horizon); a store of another layout (an older build's v1.Account values, or another
  // horizon) is kFailedPrecondition WRITER_STORE_LAYOUT naming both, and the writer rebuilds it
  // from the log.
  Result<std::optional<Checkpoint>> LoadCheckpoint(const std::string& layout) const;
  // The layout a writer keeping accounts under `horizon` reads and writes.
  static std::string Layout(const StateHorizon& horizon);

  Result<std::optional<AccountState>> GetAccount(const std::string& account_id) const;
  // The customer whose stream key is `stream_id` ("customer/<id>"); nullopt when it has none.
  Result<std::optional<CustomerState>> GetCustomer(const std::string& stream_id) const;
  Result<std::optional<CommandRecord>> GetCommand(const std::string& account_id,
                                                  const std::string& command_id) const;
  // Accounts whose next time-driven event is due at or before `now`, earliest first, at most
  // `limit`.
  Result<std::vector<std::string>> DueAccounts(absl::Time now, size_t limit) const;
  // Accounts in the store (a full scan: tests and the benchmark's digest only).
  Result<int64_t> CountAccounts() const;
  // SHA-256 over every account's bytes, in id order: equal digests, equal states.
  Result<std::string> AccountsDigest() const;

  // Changes applied together with the new checkpoint, or not at all.
  class Batch {
   public:
    Batch();
    ~Batch();
    void PutAccount(const AccountState& account);
    void PutCustomer(const std::string& stream_id, const CustomerState& customer);
    void PutCommand(const std::string& account_id, const std::string& command_id,
                    const CommandRecord& record);
    void SetDue(const std::string& account_id, std::optional<absl::Time> before,
                std::optional<absl::Time> after);
    void SetCheckpoint(int64_t next_offset, const std::string& owner, const std::string& layout);
    size_t size() const;
    bool empty() const { return size() == 0; }

   private:
    friend class WriterStore;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };
  Status Apply(Batch& batch);

 private:
  WriterStore() = default;
  std::string path_;
  std::unique_ptr<rocksdb::Env> memory_env_;  // only for an in-memory store
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace collections
