#include "services/ctl/timeline.h"

#include <boost/test/unit_test.hpp>

#include <string>

namespace collections::ctl {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Steps of a small history: opened in JPY, a call, a block by F1, a payment, a reversal.
std::vector<v1::ReplayStep> History() {
  std::vector<v1::ReplayStep> steps;
  int64_t balance = 15000;
  auto add = [&](auto fill) {
    v1::ReplayStep s;
    auto* e = s.mutable_event();
    e->set_sequence(static_cast<int64_t>(steps.size()) + 1);
    e->mutable_occurred_at()->set_seconds(1759300000 + 86400 * static_cast<int64_t>(steps.size()));
    e->mutable_actor()->set_id("collector-1");
    fill(*e);
    auto* a = s.mutable_state_after();
    a->set_account_id("ACC-<T>");
    a->set_currency("JPY");
    a->set_creditor("=HYPERLINK(\"http://evil\")");
    a->set_total_balance_minor(balance);
    steps.push_back(s);
  };
  add([](v1::EventEnvelope& e) {
    e.mutable_case_opened()->set_currency("JPY");
    e.mutable_case_opened()->mutable_balances()->set_principal_minor(15000);
  });
  add([](v1::EventEnvelope& e) {
    auto* c = e.mutable_contact_attempted()->mutable_contact();
    c->set_channel(v1::CONTACT_CHANNEL_CALL);
    c->set_outcome(v1::CONTACT_OUTCOME_RIGHT_PARTY_CONVERSATION);
  });
  add([](v1::EventEnvelope& e) {
    e.mutable_contact_blocked()->set_command("RecordContactAttempt");
    e.mutable_decision()->set_rule_id("F2");
    e.mutable_decision()->set_reason("F2: <conversation> within 7 days");
  });
  balance = 10000;
  add([](v1::EventEnvelope& e) {
    e.mutable_payment_posted()->mutable_amount()->set_amount_minor(5000);
    e.mutable_payment_posted()->mutable_amount()->set_currency("JPY");
  });
  balance = 15000;
  add([](v1::EventEnvelope& e) {
    e.mutable_payment_reversed()->mutable_reopened()->set_principal_minor(5000);
  });
  return steps;
}

BOOST_AUTO_TEST_CASE(the_page_counts_and_marks_every_kind_of_event) {
  TimelineInput in;
  in.account_id = "ACC-<T>";
  in.steps = History();
  in.verification.set_intact(true);
  in.verification.set_events_checked(5);
  const std::string html = RenderTimelineHtml(in);
  BOOST_TEST(html.find("data-account=\"ACC-&lt;T&gt;\"") != std::string::npos);
  BOOST_TEST(html.find("data-contacts=\"1\"") != std::string::npos);
  BOOST_TEST(html.find("data-payments=\"1\"") != std::string::npos);
  BOOST_TEST(html.find("data-reversals=\"1\"") != std::string::npos);
  BOOST_TEST(html.find("data-blocks=\"1\"") != std::string::npos);
  BOOST_TEST(html.find("data-verification=\"intact\"") != std::string::npos);
  // A mark on the axis and a row in the table for each.
  BOOST_TEST(Count(html, "data-kind=\"block\" data-seq=\"3\" data-rule=\"F2\"") == 2u);
  BOOST_TEST(Count(html, "data-kind=\"contact\" data-seq=\"2\" data-channel=\"CALL\" "
                         "data-outcome=\"RIGHT_PARTY_CONVERSATION\"") == 2u);
  BOOST_TEST(html.find("<polyline class=\"balance\" data-kind=\"balance\" data-points=\"5\"") !=
             std::string::npos);
  // Yen without decimals; text escaped; nothing fetched, no script.
  BOOST_TEST(html.find("5,000 JPY") != std::string::npos);
  BOOST_TEST(html.find("50.00 JPY") == std::string::npos);
  BOOST_TEST(html.find("F2: &lt;conversation&gt;") != std::string::npos);
  BOOST_TEST(html.find("<script") == std::string::npos);
  BOOST_TEST(html.find("src=") == std::string::npos);
  BOOST_TEST(html.find("href=") == std::string::npos);
  BOOST_TEST(html.find("url(") == std::string::npos);
  BOOST_TEST(html.find("@media print") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_broken_chain_is_shown_with_where_it_breaks) {
  TimelineInput in;
  in.account_id = "ACC-B";
  in.steps = History();
  in.verification.set_intact(false);
  auto* b = in.verification.add_breaks();
  b->set_sequence(4);
  b->set_reason("hash mismatch");
  const std::string html = RenderTimelineHtml(in);
  BOOST_TEST(html.find("data-verification=\"broken\" data-breaks=\"1\"") != std::string::npos);
  BOOST_TEST(html.find("data-kind=\"break\" data-seq=\"4\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_empty_history_says_so) {
  TimelineInput in;
  in.account_id = "ACC-0";
  const std::string html = RenderTimelineHtml(in);
  BOOST_TEST(html.find("data-events=\"0\"") != std::string::npos);
  BOOST_TEST(html.find("No events") != std::string::npos);
}

}  // namespace
}  // namespace collections::ctl
