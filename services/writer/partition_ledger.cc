#include "services/writer/partition_ledger.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace collections {

void PartitionLedger::Reset(int64_t next_offset) {
  base_ = next_offset;
  own_records_ = 0;
  markers_ = 0;
  slack_ = 0;
}

std::optional<std::string> PartitionLedger::Check(const std::vector<int64_t>& offsets) const {
  int64_t last = -1, landed = 0;
  for (int64_t offset : offsets) {
    if (offset < 0) continue;
    if (offset < base_) {
      return absl::StrCat("a record of this transaction landed at offset ", offset,
                          ", before the partition's end when the writer last read it (", base_,
                          ")");
    }
    last = std::max(last, offset);
    ++landed;
  }
  if (landed == 0) return std::nullopt;
  const int64_t unexplained = last + 1 - base_ - own_records_ - landed;
  const int64_t allowed = markers_ + slack_;
  if (unexplained <= allowed) return std::nullopt;
  return absl::StrCat("offsets ", base_, " to ", last, " hold ", unexplained,
                      " records or markers this writer did not write, at most ", allowed,
                      " of them markers of its own transactions: at least ",
                      unexplained - allowed, " were written by another producer");
}

void PartitionLedger::Ended(const std::vector<int64_t>& offsets, int64_t uncertain) {
  for (int64_t offset : offsets) {
    if (offset >= base_) ++own_records_;
  }
  ++markers_;
  slack_ += std::max<int64_t>(uncertain, 0);
}

bool PartitionLedger::AcceptMarkersIfNoForeignData(const std::vector<int64_t>& offsets,
                                                   int64_t data) {
  int64_t last = -1, landed = 0;
  for (int64_t offset : offsets) {
    if (offset < 0) continue;
    if (offset < base_) return false;
    last = std::max(last, offset);
    ++landed;
  }
  if (landed == 0 || data > own_records_ + landed + slack_) return false;
  const int64_t unexplained = last + 1 - base_ - own_records_ - landed;
  markers_ = std::max(markers_, unexplained - slack_);
  return true;
}

}  // namespace collections
