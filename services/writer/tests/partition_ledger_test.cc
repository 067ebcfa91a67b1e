#define BOOST_TEST_MODULE partition_ledger
#include "services/writer/partition_ledger.h"

#include <boost/test/unit_test.hpp>

namespace collections {
namespace {

BOOST_AUTO_TEST_CASE(own_transactions_back_to_back_are_accounted_for) {
  PartitionLedger ledger;
  ledger.Reset(10);
  // First transaction right at the end the restore found.
  BOOST_TEST(!ledger.Check({10, 11, 12}).has_value());
  ledger.Ended({10, 11, 12}, 0);
  // Its marker landed at 13 before the next transaction's records.
  BOOST_TEST(!ledger.Check({14}).has_value());
  ledger.Ended({14}, 0);
  // The next one started before the marker of the previous one (the other transactional id).
  BOOST_TEST(!ledger.Check({15, 16}).has_value());
  ledger.Ended({15, 16}, 0);
  // Both pending markers (at 17 and 18) before this one.
  BOOST_TEST(!ledger.Check({19}).has_value());
}

BOOST_AUTO_TEST_CASE(a_foreign_transaction_is_caught_before_the_next_commit) {
  PartitionLedger ledger;
  ledger.Reset(0);
  BOOST_TEST(!ledger.Check({0}).has_value());
  ledger.Ended({0}, 0);
  // Marker at 1; another deployment's record at 2 and its marker at 3; ours at 4.
  auto why = ledger.Check({4});
  BOOST_REQUIRE(why.has_value());
  BOOST_TEST(why->find("another producer") != std::string::npos, *why);
}

BOOST_AUTO_TEST_CASE(records_before_the_first_transaction_are_caught) {
  // Nothing of ours yet: anything between the restore's end and our first record is foreign.
  PartitionLedger ledger;
  ledger.Reset(5);
  BOOST_TEST(ledger.Check({6}).has_value());
  BOOST_TEST(ledger.Check({5, 7}).has_value());  // a foreign record between two of ours
  BOOST_TEST(!ledger.Check({5, 6}).has_value());
}

BOOST_AUTO_TEST_CASE(aborted_transactions_take_their_offsets_and_marker) {
  PartitionLedger ledger;
  ledger.Reset(0);
  // Aborted: record 0 landed, one more was in flight (may have landed), abort marker.
  ledger.Ended({0, -1}, 1);
  // Offsets 1 (the uncertain record) and 2 (the abort marker) are allowed.
  BOOST_TEST(!ledger.Check({3}).has_value());
  ledger.Ended({3}, 0);
  // One more offset than can be explained.
  BOOST_TEST(ledger.Check({6}).has_value());
  BOOST_TEST(!ledger.Check({5}).has_value());
}

BOOST_AUTO_TEST_CASE(a_transaction_with_nothing_landed_says_nothing) {
  PartitionLedger ledger;
  ledger.Reset(100);
  BOOST_TEST(!ledger.Check({-1, -1}).has_value());
  BOOST_TEST(ledger.Check({99}).has_value());  // below the end it restored to: not ours
}


BOOST_AUTO_TEST_CASE(markers_written_twice_are_accepted_once_the_log_shows_no_foreign_data) {
  // A broker failure moves the transaction coordinator; the new one writes the markers of a
  // transaction it found committing once more: 0 ours, 1 and 2 its marker twice, 3 ours.
  PartitionLedger ledger;
  ledger.Reset(0);
  ledger.Ended({0}, 0);
  auto why = ledger.Check({3});
  BOOST_REQUIRE(why.has_value());
  // The log holds two data records from 0 to 3, both ours: the extra offset is a marker.
  BOOST_TEST(ledger.AcceptMarkersIfNoForeignData({3}, 2));
  BOOST_TEST(!ledger.Check({3}).has_value());
  ledger.Ended({3}, 0);
  BOOST_TEST(!ledger.Check({5}).has_value());
}

BOOST_AUTO_TEST_CASE(another_producers_data_is_never_accepted_as_markers) {
  // 0 ours, 1 our marker, 2 another producer's record, 3 its marker, 4 ours.
  PartitionLedger ledger;
  ledger.Reset(0);
  ledger.Ended({0}, 0);
  BOOST_REQUIRE(ledger.Check({4}).has_value());
  BOOST_TEST(!ledger.AcceptMarkersIfNoForeignData({4}, 3));
  BOOST_TEST(ledger.Check({4}).has_value());
  // A record before the restore's end is never explained away either.
  PartitionLedger late;
  late.Reset(5);
  BOOST_TEST(!late.AcceptMarkersIfNoForeignData({3}, 0));
}

}  // namespace
}  // namespace collections
