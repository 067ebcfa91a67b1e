#include "projections/reporting/reports.h"

#include "projections/reporting/facts.h"
#include "services/domain/case_aggregate.h"
#include "services/domain/internal.h"

#include <algorithm>
#include <limits>
#include <tuple>

namespace collections::reporting {
namespace {

// Every figure is a sum over accounts: each account is kept within 10^15 minor units by the
// domain, but thousands of them could still pass int64, so sums saturate instead of wrapping.
int64_t Sum(int64_t a, int64_t b) { return internal::SaturatingAdd(a, b); }

using GroupKey = std::tuple<std::string, std::string, std::string>;  // creditor, queue, assignee

GroupKey KeyFor(v1::ReportGroupBy by, const std::string& creditor, const std::string& queue,
                const std::string& assignee) {
  switch (by) {
    case v1::REPORT_GROUP_BY_CREDITOR:
      return {creditor, "", ""};
    case v1::REPORT_GROUP_BY_QUEUE:
      return {"", queue, ""};
    case v1::REPORT_GROUP_BY_CREDITOR_AND_QUEUE:
      return {creditor, queue, ""};
    case v1::REPORT_GROUP_BY_ASSIGNEE:
      return {"", "", assignee};
    default:
      return {"", "", ""};
  }
}

// An exact aggregate balance as a report figure: sums of positive balances saturate at int64's
// limits as Sum would have, whatever the order of the additions.
int64_t Saturate(__int128 v) {
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

bool IsActivity(v1::ReportFactKind kind) {
  return kind >= v1::REPORT_FACT_KIND_PAYMENT && kind <= v1::REPORT_FACT_KIND_COMPLIANCE_BLOCK;
}

bool FactOrder(const v1::ReportFact* a, const v1::ReportFact* b) {
  return std::make_tuple(ToDay(a->business_date()), a->account_id(), a->sequence()) <
         std::make_tuple(ToDay(b->business_date()), b->account_id(), b->sequence());
}

// Late facts dated in [from, to] that `relevant` selects, in business date, account, sequence
// order. `from` may be the earliest day to take everything up to `to`.
template <typename Keep>
void AddCorrections(const std::vector<v1::ReportFact>& facts, absl::CivilDay from,
                    absl::CivilDay to, absl::CivilDay known_at, Keep relevant,
                    google::protobuf::RepeatedPtrField<v1::ReportFact>* out) {
  std::vector<const v1::ReportFact*> late;
  for (const auto& f : facts) {
    const absl::CivilDay day = ToDay(f.business_date());
    if (day < from || day > to || ToDay(f.recorded_date()) <= known_at || !relevant(f.kind()))
      continue;
    late.push_back(&f);
  }
  std::sort(late.begin(), late.end(), FactOrder);
  for (const auto* f : late) *out->Add() = *f;
}

constexpr absl::CivilDay kBeginning(1, 1, 1);

}  // namespace

bool MovesPosition(v1::ReportFactKind kind) {
  switch (kind) {
    case v1::REPORT_FACT_KIND_PLACEMENT:
    case v1::REPORT_FACT_KIND_ASSIGNMENT:
    case v1::REPORT_FACT_KIND_PAYMENT:
    case v1::REPORT_FACT_KIND_REVERSAL:
    case v1::REPORT_FACT_KIND_ADJUSTMENT:
    case v1::REPORT_FACT_KIND_WRITE_OFF:
    case v1::REPORT_FACT_KIND_OFF_BOOK:
      return true;
    default:
      return false;
  }
}

int64_t BasisPoints(int64_t numerator, int64_t denominator) {
  const __int128 scaled = static_cast<__int128>(numerator) * 10000;
  const __int128 half = denominator / 2;
  const __int128 q = scaled >= 0 ? (scaled + half) / denominator : (scaled - half) / denominator;
  return static_cast<int64_t>(q);
}

std::map<std::string, Position> PositionsAsOf(const std::vector<v1::ReportFact>& facts,
                                              absl::CivilDay as_of, absl::CivilDay known_at) {
  std::vector<const v1::ReportFact*> in;
  for (const auto& f : facts) {
    if (ToDay(f.business_date()) <= as_of && ToDay(f.recorded_date()) <= known_at &&
        MovesPosition(f.kind())) {
      in.push_back(&f);
    }
  }
  // Business order, so a back-dated assignment takes effect on its own date.
  std::sort(in.begin(), in.end(), FactOrder);
  std::map<std::string, Position> out;
  for (const auto* f : in) {
    Position& p = out[f->account_id()];
    p.account_id = f->account_id();
    p.balance_minor = Sum(p.balance_minor, f->balance_change_minor());
    if (p.currency.empty()) p.currency = f->currency();
    if (p.creditor.empty()) p.creditor = f->creditor();
    switch (f->kind()) {
      case v1::REPORT_FACT_KIND_PLACEMENT:
        p.placed = true;
        p.due_date = ToDay(f->due_date());
        p.assignee = f->assignee();
        p.queue = f->queue();
        break;
      case v1::REPORT_FACT_KIND_ASSIGNMENT:
        p.assignee = f->assignee();
        p.queue = f->queue();
        break;
      case v1::REPORT_FACT_KIND_OFF_BOOK:
        p.off_book = true;
        break;
      default:
        break;
    }
  }
  return out;
}

bool IsReceivable(const Position& p) { return p.placed && !p.off_book && p.balance_minor > 0; }

void Fold(PositionState& state, const v1::ReportFact& f) {
  if (!MovesPosition(f.kind())) return;
  Position& p = state.position;
  const OrderKey key{ToDay(f.business_date()), f.sequence()};
  p.account_id = f.account_id();
  // Per account the domain keeps balances far from int64's limits, so no sum saturates and
  // the order of additions cannot change the result.
  p.balance_minor = Sum(p.balance_minor, f.balance_change_minor());
  // The first non-empty value in business order, as PositionsAsOf keeps it.
  if (!f.currency().empty() && (p.currency.empty() || key < state.currency_key)) {
    p.currency = f.currency();
    state.currency_key = key;
  }
  if (!f.creditor().empty() && (p.creditor.empty() || key < state.creditor_key)) {
    p.creditor = f.creditor();
    state.creditor_key = key;
  }
  auto owner = [&] {
    if (state.has_owner && key < state.owner_key) return;
    state.has_owner = true;
    state.owner_key = key;
    p.assignee = f.assignee();
    p.queue = f.queue();
  };
  switch (f.kind()) {
    case v1::REPORT_FACT_KIND_PLACEMENT:
      if (!p.placed || !(key < state.due_key)) {
        p.due_date = ToDay(f.due_date());
        state.due_key = key;
      }
      p.placed = true;
      owner();
      break;
    case v1::REPORT_FACT_KIND_ASSIGNMENT:
      owner();
      break;
    case v1::REPORT_FACT_KIND_OFF_BOOK:
      p.off_book = true;
      break;
    default:
      break;
  }
}

namespace {

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

void PutString(std::string& out, const std::string& s) {
  PutVarint(out, s.size());
  out += s;
}

bool GetString(std::string_view& in, std::string* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in.size()) return false;
  s->assign(in.data(), n);
  in.remove_prefix(n);
  return true;
}

// Days are stored as days since 1970-01-01, zig-zag encoded.
void PutDay(std::string& out, absl::CivilDay d) {
  const int64_t n = d - absl::CivilDay(1970, 1, 1);
  PutVarint(out, (static_cast<uint64_t>(n) << 1) ^ static_cast<uint64_t>(n >> 63));
}

bool GetDay(std::string_view& in, absl::CivilDay* d) {
  uint64_t z = 0;
  if (!GetVarint(in, &z)) return false;
  const int64_t n = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
  *d = absl::CivilDay(1970, 1, 1) + n;
  return true;
}

void PutKey(std::string& out, const OrderKey& k) {
  PutDay(out, k.first);
  PutVarint(out, static_cast<uint64_t>(k.second));
}

bool GetKey(std::string_view& in, OrderKey* k) {
  uint64_t seq = 0;
  if (!GetDay(in, &k->first) || !GetVarint(in, &seq)) return false;
  k->second = static_cast<int64_t>(seq);
  return true;
}

constexpr char kStateVersion = 1;

}  // namespace

std::string EncodeState(const PositionState& state) {
  const Position& p = state.position;
  std::string out(1, kStateVersion);
  PutString(out, p.account_id);
  PutString(out, p.creditor);
  PutString(out, p.queue);
  PutString(out, p.assignee);
  PutString(out, p.currency);
  PutVarint(out, static_cast<uint64_t>(p.balance_minor));
  PutDay(out, p.due_date);
  PutVarint(out, (p.placed ? 1 : 0) | (p.off_book ? 2 : 0) | (state.has_owner ? 4 : 0));
  PutKey(out, state.currency_key);
  PutKey(out, state.creditor_key);
  PutKey(out, state.due_key);
  PutKey(out, state.owner_key);
  return out;
}

bool DecodeState(std::string_view in, PositionState* state) {
  if (in.empty() || in.front() != kStateVersion) return false;
  in.remove_prefix(1);
  Position& p = state->position;
  uint64_t balance = 0, flags = 0;
  if (!GetString(in, &p.account_id) || !GetString(in, &p.creditor) || !GetString(in, &p.queue) ||
      !GetString(in, &p.assignee) || !GetString(in, &p.currency) || !GetVarint(in, &balance) ||
      !GetDay(in, &p.due_date) || !GetVarint(in, &flags) || !GetKey(in, &state->currency_key) ||
      !GetKey(in, &state->creditor_key) || !GetKey(in, &state->due_key) ||
      !GetKey(in, &state->owner_key)) {
    return false;
  }
  p.balance_minor = static_cast<int64_t>(balance);
  p.placed = (flags & 1) != 0;
  p.off_book = (flags & 2) != 0;
  state->has_owner = (flags & 4) != 0;
  return in.empty();
}

absl::CivilDay MonthEnd(absl::CivilDay day) {
  return absl::CivilDay(absl::CivilMonth(day) + 1) - 1;
}

void FoldIntoSnapshots(std::map<absl::CivilDay, PositionState>& snapshots,
                       const v1::ReportFact& fact) {
  if (!MovesPosition(fact.kind())) return;
  const absl::CivilDay end =
      MonthEnd(std::max(ToDay(fact.business_date()), ToDay(fact.recorded_date())));
  auto it = snapshots.lower_bound(end);
  if (it == snapshots.end() || it->first != end) {
    PositionState start = it == snapshots.begin() ? PositionState() : std::prev(it)->second;
    it = snapshots.emplace_hint(it, end, std::move(start));
  }
  for (; it != snapshots.end(); ++it) Fold(it->second, fact);
}

absl::CivilDay SnapshotDateFor(absl::CivilDay first, absl::CivilDay known_at) {
  const absl::CivilDay e = std::min(first, known_at);
  return absl::CivilDay(absl::CivilMonth(e + 1)) - 1;
}

void AddSums(Aggregate& into, const AggregateKey& key, const AggregateSums& delta) {
  if (delta.Zero()) return;
  auto [it, inserted] = into.try_emplace(key, delta);
  if (inserted) return;
  it->second.accounts += delta.accounts;
  it->second.balance_minor += delta.balance_minor;
  if (it->second.Zero()) into.erase(it);
}

void AddContribution(Aggregate& into, const PositionState& state, absl::CivilDay month_end,
                     int sign) {
  const Position& p = state.position;
  if (!IsReceivable(p)) return;
  AddSums(into,
          AggregateKey{p.creditor, p.queue, p.assignee, p.currency,
                       std::max(p.due_date, month_end - kAgedOutDays)},
          AggregateSums{sign, static_cast<__int128>(sign) * p.balance_minor});
}

void AddSnapshotDeltas(AggregateDeltas& into,
                       const std::map<absl::CivilDay, PositionState>& snapshots,
                       absl::CivilDay from, int sign) {
  auto it = snapshots.lower_bound(from);
  for (; it != snapshots.end(); ++it) {
    Aggregate& delta = into[it->first];
    AddContribution(delta, it->second, it->first, sign);
    if (it != snapshots.begin()) {
      const auto& before = *std::prev(it);
      AddContribution(delta, before.second, before.first, -sign);
    }
    if (delta.empty()) into.erase(it->first);
  }
}

namespace {

void PutZigZag(std::string& out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

bool GetZigZag(std::string_view& in, int64_t* v) {
  uint64_t z = 0;
  if (!GetVarint(in, &z)) return false;
  *v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
  return true;
}

constexpr char kAggregateVersion = 1;

}  // namespace

std::string EncodeAggregateKey(const AggregateKey& key) {
  std::string out(1, kAggregateVersion);
  PutString(out, key.creditor);
  PutString(out, key.queue);
  PutString(out, key.assignee);
  PutString(out, key.currency);
  PutDay(out, key.due_date);
  return out;
}

bool DecodeAggregateKey(std::string_view in, AggregateKey* key) {
  if (in.empty() || in.front() != kAggregateVersion) return false;
  in.remove_prefix(1);
  return GetString(in, &key->creditor) && GetString(in, &key->queue) &&
         GetString(in, &key->assignee) && GetString(in, &key->currency) &&
         GetDay(in, &key->due_date) && in.empty();
}

std::string EncodeSums(const AggregateSums& sums) {
  std::string out(1, kAggregateVersion);
  PutZigZag(out, sums.accounts);
  // The balance as its high and low 64 bits.
  PutZigZag(out, static_cast<int64_t>(sums.balance_minor >> 64));
  PutVarint(out, static_cast<uint64_t>(sums.balance_minor));
  return out;
}

bool DecodeSums(std::string_view in, AggregateSums* sums) {
  if (in.empty() || in.front() != kAggregateVersion) return false;
  in.remove_prefix(1);
  int64_t high = 0;
  uint64_t low = 0;
  if (!GetZigZag(in, &sums->accounts) || !GetZigZag(in, &high) || !GetVarint(in, &low) ||
      !in.empty()) {
    return false;
  }
  sums->balance_minor =
      static_cast<__int128>(static_cast<unsigned __int128>(static_cast<__int128>(high)) << 64 |
                            static_cast<unsigned __int128>(low));
  return true;
}

bool NeededBeyondSnapshot(const v1::ReportFact& f, absl::CivilDay base_date,
                          absl::CivilDay last) {
  const absl::CivilDay business = ToDay(f.business_date());
  if (business > last) return false;
  return business > base_date || ToDay(f.recorded_date()) > base_date;
}

std::map<std::string, Position> PositionsFrom(const ReportInput& input, absl::CivilDay as_of,
                                              absl::CivilDay known_at) {
  if (!input.base_date) return PositionsAsOf(input.facts, as_of, known_at);
  const absl::CivilDay base = *input.base_date;
  // Only the accounts a fact moves are copied and folded; the others keep their snapshot's
  // position (a report reads every account's snapshot, and most did not move in the period).
  std::map<std::string, PositionState> moved;
  for (const auto& f : input.facts) {
    const absl::CivilDay business = ToDay(f.business_date());
    const absl::CivilDay recorded = ToDay(f.recorded_date());
    // Facts with both dates <= base are in the snapshot already; facts that move no position
    // leave the account as its snapshot (or, with `unmoved`, as the aggregate) has it.
    if (business > as_of || recorded > known_at || std::max(business, recorded) <= base ||
        !MovesPosition(f.kind())) {
      continue;
    }
    auto it = moved.find(f.account_id());
    if (it == moved.end()) {
      auto snapshot = input.base.find(f.account_id());
      it = moved
               .emplace(f.account_id(),
                        snapshot != input.base.end() ? snapshot->second : PositionState{})
               .first;
    }
    Fold(it->second, f);
  }
  std::map<std::string, Position> out;
  auto next_moved = moved.begin();
  for (const auto& [id, state] : input.base) {
    // Both maps are in key order: the moved accounts before this one go in first.
    for (; next_moved != moved.end() && next_moved->first < id; ++next_moved) {
      out.emplace_hint(out.end(), next_moved->first, std::move(next_moved->second.position));
    }
    if (next_moved != moved.end() && next_moved->first == id) {
      out.emplace_hint(out.end(), id, std::move(next_moved->second.position));
      ++next_moved;
    } else {
      out.emplace_hint(out.end(), id, state.position);
    }
  }
  for (; next_moved != moved.end(); ++next_moved) {
    out.emplace_hint(out.end(), next_moved->first, std::move(next_moved->second.position));
  }
  return out;
}

namespace {

// Days past due of a receivable (something owed) due on `due`.
int32_t OwedDaysPastDue(absl::CivilDay due, absl::CivilDay as_of) {
  return static_cast<int32_t>(std::clamp<int64_t>(as_of - due, 0, 100000));
}

}  // namespace

int32_t DaysPastDue(const Position& p, absl::CivilDay as_of) {
  if (p.balance_minor <= 0) return 0;
  return OwedDaysPastDue(p.due_date, as_of);
}

v1::GetAgingReportResponse BuildAging(const std::vector<v1::ReportFact>& facts,
                                      absl::CivilDay as_of, absl::CivilDay known_at,
                                      v1::ReportGroupBy group_by, bool include_accounts) {
  return BuildAging(ReportInput{facts, std::nullopt, {}, std::nullopt}, as_of, known_at, group_by,
                    include_accounts);
}

v1::GetAgingReportResponse BuildAging(const ReportInput& input, absl::CivilDay as_of,
                                      absl::CivilDay known_at, v1::ReportGroupBy group_by,
                                      bool include_accounts) {
  const std::vector<v1::ReportFact>& facts = input.facts;
  v1::GetAgingReportResponse out;
  *out.mutable_as_of() = ToDate(as_of);
  *out.mutable_known_at() = ToDate(known_at);
  struct Cell {
    int64_t count = 0, balance = 0;
  };
  std::map<std::tuple<GroupKey, std::string, int>, Cell> cells;
  std::map<std::string, Cell> totals;
  for (const auto& [id, p] : PositionsFrom(input, as_of, known_at)) {
    if (!IsReceivable(p)) continue;
    const int32_t dpd = DaysPastDue(p, as_of);
    const v1::AgingBucket bucket = BucketFor(dpd);
    Cell& c = cells[{KeyFor(group_by, p.creditor, p.queue, p.assignee), p.currency, bucket}];
    c.count += 1;
    c.balance = Sum(c.balance, p.balance_minor);
    totals[p.currency].count += 1;
    totals[p.currency].balance = Sum(totals[p.currency].balance, p.balance_minor);
    if (include_accounts) {
      v1::AgingAccount* a = out.add_accounts();
      a->set_account_id(p.account_id);
      a->set_creditor(p.creditor);
      a->set_queue(p.queue);
      a->set_assignee(p.assignee);
      a->set_currency(p.currency);
      a->set_balance_minor(p.balance_minor);
      *a->mutable_due_date() = ToDate(p.due_date);
      a->set_days_past_due(dpd);
      a->set_bucket(bucket);
    }
  }
  if (input.unmoved) {
    // Every receivable the facts do not move, by its aggregate key: all balances are positive,
    // so the saturating sums come out as the per-account loop above would make them.
    for (const auto& [k, sums] : *input.unmoved) {
      if (sums.accounts <= 0) continue;
      const int64_t balance = Saturate(sums.balance_minor);
      Cell& c = cells[{KeyFor(group_by, k.creditor, k.queue, k.assignee), k.currency,
                       BucketFor(OwedDaysPastDue(k.due_date, as_of))}];
      c.count += sums.accounts;
      c.balance = Sum(c.balance, balance);
      totals[k.currency].count += sums.accounts;
      totals[k.currency].balance = Sum(totals[k.currency].balance, balance);
    }
  }
  for (const auto& [key, c] : cells) {
    v1::AgingRow* row = out.add_rows();
    row->set_creditor(std::get<0>(std::get<0>(key)));
    row->set_queue(std::get<1>(std::get<0>(key)));
    row->set_assignee(std::get<2>(std::get<0>(key)));
    row->set_currency(std::get<1>(key));
    row->set_bucket(static_cast<v1::AgingBucket>(std::get<2>(key)));
    row->set_account_count(c.count);
    row->set_balance_minor(c.balance);
  }
  for (const auto& [currency, c] : totals) {
    v1::CurrencyTotal* t = out.add_totals();
    t->set_currency(currency);
    t->set_account_count(c.count);
    t->set_balance_minor(c.balance);
  }
  AddCorrections(facts, kBeginning, as_of, known_at, MovesPosition, out.mutable_corrections());
  return out;
}

namespace {

// Accumulates one activity group; Finish() writes it in the message's order.
struct GroupFigures {
  struct Money {
    int64_t payments_count = 0, payments = 0, reversals_count = 0, reversals = 0, refunds_count = 0,
            refunds = 0, promised = 0;
    std::map<int, v1::AdjustmentActivity> adjustments, write_offs;
  };
  std::map<std::string, Money> money;
  int64_t made = 0, kept = 0, broken = 0, cancelled = 0;
  std::map<int, std::pair<int64_t, int64_t>> channels;  // attempts, right-party contacts
  int64_t opened = 0, upheld = 0, rejected = 0, withdrawn = 0;
  std::map<std::string, int64_t> blocks;

  void Add(const v1::ReportFact& f) {
    // Only money facts open a currency row: contacts and promise outcomes carry no amount.
    auto m = [this, &f]() -> Money& { return money[f.currency()]; };
    auto adjust = [&f](std::map<int, v1::AdjustmentActivity>& by_kind) {
      v1::AdjustmentActivity& a = by_kind[f.adjustment_kind()];
      a.set_kind(f.adjustment_kind());
      a.set_count(a.count() + 1);
      if (f.balance_change_minor() >= 0)
        a.set_increase_minor(Sum(a.increase_minor(), f.balance_change_minor()));
      else
        a.set_decrease_minor(Sum(a.decrease_minor(), -f.balance_change_minor()));
    };
    switch (f.kind()) {
      case v1::REPORT_FACT_KIND_PAYMENT:
        m().payments_count++;
        m().payments = Sum(m().payments, f.amount_minor());
        break;
      case v1::REPORT_FACT_KIND_REVERSAL:
        m().reversals_count++;
        m().reversals = Sum(m().reversals, f.amount_minor());
        break;
      case v1::REPORT_FACT_KIND_REFUND:
        m().refunds_count++;
        m().refunds = Sum(m().refunds, f.amount_minor());
        break;
      case v1::REPORT_FACT_KIND_ADJUSTMENT:
        adjust(m().adjustments);
        break;
      case v1::REPORT_FACT_KIND_WRITE_OFF:
        adjust(m().write_offs);
        break;
      case v1::REPORT_FACT_KIND_PROMISE_MADE:
        made++;
        m().promised = Sum(m().promised, f.amount_minor());
        break;
      case v1::REPORT_FACT_KIND_PROMISE_KEPT:
        kept++;
        break;
      case v1::REPORT_FACT_KIND_PROMISE_BROKEN:
        broken++;
        break;
      case v1::REPORT_FACT_KIND_PROMISE_CANCELLED:
        cancelled++;
        break;
      case v1::REPORT_FACT_KIND_CONTACT_ATTEMPT:
        channels[f.channel()].first++;
        if (f.right_party_contact()) channels[f.channel()].second++;
        break;
      case v1::REPORT_FACT_KIND_DISPUTE_OPENED:
        opened++;
        break;
      case v1::REPORT_FACT_KIND_DISPUTE_RESOLVED:
        (f.upheld() ? upheld : rejected)++;
        break;
      case v1::REPORT_FACT_KIND_DISPUTE_WITHDRAWN:
        withdrawn++;
        break;
      case v1::REPORT_FACT_KIND_COMPLIANCE_BLOCK:
        blocks[f.rule_id()]++;
        break;
      default:
        break;
    }
  }

  void Finish(v1::ActivityGroup* g) const {
    for (const auto& [currency, m] : money) {
      v1::MoneyActivity* out = g->add_money();
      out->set_currency(currency);
      out->set_payments_count(m.payments_count);
      out->set_payments_minor(m.payments);
      out->set_reversals_count(m.reversals_count);
      out->set_reversals_minor(m.reversals);
      out->set_refunds_count(m.refunds_count);
      out->set_refunds_minor(m.refunds);
      out->set_net_collected_minor(m.payments - m.reversals - m.refunds);
      for (const auto& [kind, a] : m.adjustments) *out->add_adjustments() = a;
      for (const auto& [kind, a] : m.write_offs) *out->add_write_offs() = a;
      out->set_promised_minor(m.promised);
    }
    v1::PromiseActivity* p = g->mutable_promises();
    p->set_made(made);
    p->set_kept(kept);
    p->set_broken(broken);
    p->set_cancelled(cancelled);
    if (kept + broken > 0) p->set_kept_rate_basis_points(BasisPoints(kept, kept + broken));
    for (const auto& [channel, c] : channels) {
      v1::ChannelActivity* out = g->add_contacts();
      out->set_channel(static_cast<v1::ContactChannel>(channel));
      out->set_attempts(c.first);
      out->set_right_party_contacts(c.second);
      out->set_right_party_contact_rate_basis_points(BasisPoints(c.second, c.first));
    }
    v1::DisputeActivity* d = g->mutable_disputes();
    d->set_opened(opened);
    d->set_resolved(upheld + rejected);
    d->set_upheld(upheld);
    d->set_rejected(rejected);
    d->set_withdrawn(withdrawn);
    for (const auto& [rule, n] : blocks) {
      v1::RuleBlocks* b = g->add_compliance_blocks();
      b->set_rule_id(rule);
      b->set_count(n);
    }
  }
};

}  // namespace

v1::GetActivityReportResponse BuildActivity(const std::vector<v1::ReportFact>& facts,
                                            absl::CivilDay start, absl::CivilDay end,
                                            absl::CivilDay known_at, v1::ReportGroupBy group_by) {
  v1::GetActivityReportResponse out;
  *out.mutable_start() = ToDate(start);
  *out.mutable_end() = ToDate(end);
  *out.mutable_known_at() = ToDate(known_at);
  std::map<GroupKey, GroupFigures> groups;
  for (const auto& f : facts) {
    const absl::CivilDay day = ToDay(f.business_date());
    if (day < start || day > end || ToDay(f.recorded_date()) > known_at || !IsActivity(f.kind()))
      continue;
    groups[KeyFor(group_by, f.creditor(), f.queue(), f.assignee())].Add(f);
  }
  for (const auto& [key, figures] : groups) {
    v1::ActivityGroup* g = out.add_groups();
    g->set_creditor(std::get<0>(key));
    g->set_queue(std::get<1>(key));
    g->set_assignee(std::get<2>(key));
    figures.Finish(g);
  }
  AddCorrections(facts, start, end, known_at, IsActivity, out.mutable_corrections());
  return out;
}

v1::GetCollectionEffectivenessResponse BuildCollectionEffectiveness(
    const std::vector<v1::ReportFact>& facts, absl::CivilDay start, absl::CivilDay end,
    absl::CivilDay known_at) {
  return BuildCollectionEffectiveness(ReportInput{facts, std::nullopt, {}, std::nullopt}, start, end, known_at);
}

v1::GetCollectionEffectivenessResponse BuildCollectionEffectiveness(const ReportInput& input,
                                                                    absl::CivilDay start,
                                                                    absl::CivilDay end,
                                                                    absl::CivilDay known_at) {
  const std::vector<v1::ReportFact>& facts = input.facts;
  v1::GetCollectionEffectivenessResponse out;
  *out.mutable_start() = ToDate(start);
  *out.mutable_end() = ToDate(end);
  *out.mutable_known_at() = ToDate(known_at);
  std::map<std::string, v1::CollectionEffectiveness> by_currency;
  auto row = [&by_currency](const std::string& currency) -> v1::CollectionEffectiveness& {
    v1::CollectionEffectiveness& c = by_currency[currency];
    c.set_currency(currency);
    return c;
  };
  for (const auto& [id, p] : PositionsFrom(input, start - 1, known_at)) {
    if (!IsReceivable(p)) continue;
    auto& c = row(p.currency);
    c.set_opening_receivables_minor(Sum(c.opening_receivables_minor(), p.balance_minor));
  }
  for (const auto& f : facts) {
    const absl::CivilDay day = ToDay(f.business_date());
    if (f.kind() != v1::REPORT_FACT_KIND_PLACEMENT || day < start || day > end ||
        ToDay(f.recorded_date()) > known_at) {
      continue;
    }
    auto& c = row(f.currency());
    c.set_new_placements_minor(Sum(c.new_placements_minor(), f.amount_minor()));
  }
  for (const auto& [id, p] : PositionsFrom(input, end, known_at)) {
    if (!IsReceivable(p)) continue;
    auto& c = row(p.currency);
    c.set_closing_total_receivables_minor(
        Sum(c.closing_total_receivables_minor(), p.balance_minor));
    if (DaysPastDue(p, end) == 0) {
      c.set_closing_current_receivables_minor(
          Sum(c.closing_current_receivables_minor(), p.balance_minor));
    }
  }
  if (input.unmoved) {
    // Unmoved receivables are receivables at both ends, with the same balance.
    for (const auto& [k, sums] : *input.unmoved) {
      if (sums.accounts <= 0) continue;
      const int64_t balance = Saturate(sums.balance_minor);
      auto& c = row(k.currency);
      c.set_opening_receivables_minor(Sum(c.opening_receivables_minor(), balance));
      c.set_closing_total_receivables_minor(Sum(c.closing_total_receivables_minor(), balance));
      if (OwedDaysPastDue(k.due_date, end) == 0) {
        c.set_closing_current_receivables_minor(
            Sum(c.closing_current_receivables_minor(), balance));
      }
    }
  }
  for (auto& [currency, c] : by_currency) {
    const int64_t base = Sum(c.opening_receivables_minor(), c.new_placements_minor());
    c.set_numerator_minor(Sum(base, -c.closing_total_receivables_minor()));
    c.set_denominator_minor(Sum(base, -c.closing_current_receivables_minor()));
    if (c.denominator_minor() != 0) {
      // A negative denominator cannot come from receivables >= 0 summed as above, but the
      // rounding helper needs a positive one.
      c.set_cei_basis_points(c.denominator_minor() > 0
                                 ? BasisPoints(c.numerator_minor(), c.denominator_minor())
                                 : BasisPoints(-c.numerator_minor(), -c.denominator_minor()));
    }
    *out.add_figures() = c;
  }
  AddCorrections(facts, kBeginning, end, known_at, MovesPosition, out.mutable_corrections());
  return out;
}

v1::GetRollRatesResponse BuildRollRates(const std::vector<v1::ReportFact>& facts,
                                        absl::CivilDay month, absl::CivilDay known_at) {
  return BuildRollRates(ReportInput{facts, std::nullopt, {}, std::nullopt}, month, known_at);
}

v1::GetRollRatesResponse BuildRollRates(const ReportInput& input, absl::CivilDay month,
                                        absl::CivilDay known_at) {
  const std::vector<v1::ReportFact>& facts = input.facts;
  const absl::CivilDay from = absl::CivilDay(absl::CivilMonth(month)) - 1;
  const absl::CivilDay to = absl::CivilDay(absl::CivilMonth(month) + 1) - 1;
  v1::GetRollRatesResponse out;
  *out.mutable_from_date() = ToDate(from);
  *out.mutable_to_date() = ToDate(to);
  *out.mutable_known_at() = ToDate(known_at);
  const auto before = PositionsFrom(input, from, known_at);
  const auto after = PositionsFrom(input, to, known_at);
  std::map<std::pair<std::string, int>, int64_t> bucket_balance;  // currency, from bucket
  std::map<std::tuple<std::string, int, bool, int>, v1::RollRate> pairs;
  for (const auto& [id, p] : before) {
    if (!IsReceivable(p)) continue;
    const v1::AgingBucket from_bucket = BucketFor(DaysPastDue(p, from));
    int64_t& bucket = bucket_balance[{p.currency, from_bucket}];
    bucket = Sum(bucket, p.balance_minor);
    const Position& q = after.at(id);  // facts up to `from` are facts up to `to` too
    const bool exited = !IsReceivable(q);
    const v1::AgingBucket to_bucket =
        exited ? v1::AGING_BUCKET_UNSPECIFIED : BucketFor(DaysPastDue(q, to));
    v1::RollRate& r = pairs[{p.currency, from_bucket, exited, to_bucket}];
    r.set_currency(p.currency);
    r.set_from_bucket(from_bucket);
    r.set_to_bucket(to_bucket);
    r.set_exited(exited);
    r.set_account_count(r.account_count() + 1);
    r.set_from_balance_minor(Sum(r.from_balance_minor(), p.balance_minor));
    r.set_to_balance_minor(Sum(r.to_balance_minor(), q.balance_minor));
  }
  if (input.unmoved) {
    // An unmoved receivable stays one with the same balance: it never exits, only ages.
    for (const auto& [k, sums] : *input.unmoved) {
      if (sums.accounts <= 0) continue;
      const int64_t balance = Saturate(sums.balance_minor);
      const v1::AgingBucket from_bucket = BucketFor(OwedDaysPastDue(k.due_date, from));
      const v1::AgingBucket to_bucket = BucketFor(OwedDaysPastDue(k.due_date, to));
      int64_t& bucket = bucket_balance[{k.currency, from_bucket}];
      bucket = Sum(bucket, balance);
      v1::RollRate& r = pairs[{k.currency, from_bucket, false, to_bucket}];
      r.set_currency(k.currency);
      r.set_from_bucket(from_bucket);
      r.set_to_bucket(to_bucket);
      r.set_exited(false);
      r.set_account_count(r.account_count() + sums.accounts);
      r.set_from_balance_minor(Sum(r.from_balance_minor(), balance));
      r.set_to_balance_minor(Sum(r.to_balance_minor(), balance));
    }
  }
  for (auto& [key, r] : pairs) {
    r.set_rate_basis_points(
        BasisPoints(r.from_balance_minor(), bucket_balance[{r.currency(), r.from_bucket()}]));
    *out.add_rates() = r;
  }
  AddCorrections(facts, kBeginning, to, known_at, MovesPosition, out.mutable_corrections());
  return out;
}

PeriodDays ResolvePeriod(v1::ReportPeriod period, absl::CivilDay start) {
  switch (period) {
    case v1::REPORT_PERIOD_DAY:
      return {start, start, true};
    case v1::REPORT_PERIOD_WEEK:
      return {start, start + 6, true};
    case v1::REPORT_PERIOD_MONTH:
      if (start.day() != 1) return {start, start, false};
      return {start, absl::CivilDay(absl::CivilMonth(start) + 1) - 1, true};
    default:
      return {start, start, false};
  }
}

}  // namespace collections::reporting
