#pragma once

#include "services/api/command_call.h"
#include "services/domain/command.h"
#include "services/domain/customer_aggregate.h"
#include "services/writer/writer.h"

#include "absl/time/time.h"
#include "collections/v1/case_service.pb.h"
#include "collections/v1/customer.pb.h"

#include <string>
#include <string_view>

namespace collections {

// Requests whose effect spans several streams: a customer and its account (a link), or several
// debts of one customer (a call about all of them, a cease letter naming them). Each stream has
// one writer and one transaction per command, so such a request is a short chain of commands,
// each idempotent with a command id derived from the request's (StepCommandId): a request
// retried with its command id after any failure repeats the steps already committed (they
// append nothing) and finishes the others. Before anything is appended, every account the
// request will touch is checked by a dry run of its own step, so a request one of them would
// refuse (not linked to the customer, a compliance rule) is refused whole and nothing is
// recorded. The answer is the reply of the request's own stream.
//
// The completions run on the writers' threads; each step only queues the next command.
class CrossStreamSteps {
 public:
  explicit CrossStreamSteps(CommandRouter& router) : router_(router) {}

  // LinkCustomerAccount: a dry run of the account's side (it belongs to no other customer
  // unless the request moves it from that one), the customer's side (CustomerAccountLinked),
  // then the account's (AccountCustomerLinked, carrying the customer's recorded commercial
  // flag). An account with no case yet gets only the customer's side; OpenCase with the
  // customer_id adds the account's when the case opens. Answers the customer side's reply.
  void Link(v1::LinkCustomerAccountRequest request, absl::Time deadline, CommandCompletion done);
  // UnlinkCustomerAccount: the customer's side (it refuses an account with open invoices), then
  // the account's (AccountCustomerUnlinked).
  void Unlink(v1::UnlinkCustomerAccountRequest request, absl::Time deadline,
              CommandCompletion done);
  // OpenCase with customer_id: the case, then the link as LinkCustomerAccount. Answers the
  // OpenCase reply.
  void OpenLinked(v1::OpenCaseRequest request, absl::Time deadline, CommandCompletion done);
  // RecordContactAttempt or UpdateFlag with several_debts: a dry run on each other account (it
  // must be the customer's; a contact there must pass the rules), the request on its own
  // account, then the same on each other account, marked recorded_on_account_id. A contact the
  // rules refuse on any of the debts is refused whole (F3: it counts against each). Once the
  // contact is recorded on its own account it took place, so the copies are recorded as such
  // (a violation, if a rule broke meanwhile, rather than a refusal).
  void SeveralDebts(v1::RecordContactAttemptRequest request, absl::Time deadline,
                    CommandCompletion done);
  void SeveralDebts(v1::UpdateFlagRequest request, absl::Time deadline, CommandCompletion done);

  // The command id of a step: a digest of the step's kind, the request's stream, its command
  // id and the stream the step writes, so the same request always yields the same step ids.
  static std::string StepCommandId(std::string_view kind, std::string_view stream,
                                   std::string_view command_id, std::string_view target);

 private:
  void RunLink(v1::LinkCustomerAccountRequest request, absl::Time deadline, bool at_opening,
               CommandCompletion done);
  template <typename Request>
  void RunSeveralDebts(Request request, absl::Time deadline, CommandCompletion done);
  CommandRouter& router_;
};

// A request's several_debts.recorded_on_account_id is the service's to set: a caller that sets
// it gets INVALID_ARGUMENT naming it.
Status RefuseCallerSetFields(const v1::SeveralDebts& several_debts);

}  // namespace collections
