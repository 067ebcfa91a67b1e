#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace collections {

// Accounts for every offset of one partition since its writer last read the partition to its
// end, from what the writer already knows: where its own records landed (the delivery reports
// of its transactions) and how many transactions that held its records ended (each leaves one
// commit or abort marker in every partition it held, which takes an offset there). A
// transaction shared with other partitions' writers (kafka::TransactionGroup) counts once here,
// with only this partition's records; one the producer or the group tried again counts once per
// attempt: the producer reports each through kafka::CommitGuard. An offset it cannot account for was written by someone else:
// a second writer the transactional ids do not fence (another deployment on the same topic),
// or any other producer. The writer asks before every commit, so it never commits after a
// record that is not its own, and no request is added to the broker for it.
//
// The one thing it cannot know is whether the marker of its latest transaction has landed yet:
// the writer alternates two transactional ids, so its next transaction may start before that
// marker is written. The check therefore allows every ended transaction its marker; a single
// foreign offset can pass unnoticed only while it and that marker are both still to come, and
// is caught by the next transaction (a foreign transaction's records and its own marker are
// two offsets, never hidden). Aborted transactions whose records may or may not have landed
// widen the allowance by those records (they are rare: a refused record, a broker error).
//
// Pure and not thread-safe: owned by one partition writer thread.
class PartitionLedger {
 public:
  // Starts over at `next_offset`: the partition's end after the writer read everything before
  // it (a restore, done after its producers fenced older owners and settled their transactions).
  void Reset(int64_t next_offset);

  // A transaction's records have landed at `offsets` (-1 = not landed) and it is not committed
  // yet. Returns why the partition holds offsets up to the highest of them that this writer did
  // not write, or nullopt when it can account for all of them.
  std::optional<std::string> Check(const std::vector<int64_t>& offsets) const;

  // A transaction ended, committed or aborted: the records at `offsets` (-1 = not landed) are the
  // writer's, its marker takes one offset, and `uncertain` records may have taken one each.
  void Ended(const std::vector<int64_t>& offsets, int64_t uncertain);

  // Transactions that held `offsets` (as given to Check) put exactly `data` data records at
  // offsets base() to the highest of them (counted by reading the partition: records of open and
  // aborted transactions included, markers excluded). When those are no more than this writer's
  // own (landed, and the uncertain ones of its aborted transactions), every offset Check could
  // not account for is a marker: a transaction coordinator that took over after a broker
  // failure writes the markers of a transaction it found committing once more. Accepts them and
  // returns true; false when another producer's data is there.
  bool AcceptMarkersIfNoForeignData(const std::vector<int64_t>& offsets, int64_t data);

  int64_t base() const { return base_; }
  // Offsets past the base the writer has accounted for at most (records, markers, uncertain).
  int64_t accounted() const { return own_records_ + markers_ + slack_; }

 private:
  int64_t base_ = 0;         // the partition's end at the last Reset
  int64_t own_records_ = 0;  // offsets >= base_ holding this writer's records
  int64_t markers_ = 0;      // transactions ended since base_: one marker each
  int64_t slack_ = 0;        // records of aborted transactions that may have landed
};

}  // namespace collections
