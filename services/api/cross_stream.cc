#include "services/api/cross_stream.h"

#include "services/domain/hashing.h"

#include "absl/strings/str_cat.h"

#include <memory>
#include <utility>
#include <vector>

namespace collections {
namespace {

// Runs `commands` one after another (each queued once the one before is answered) and calls
// `done` with nullopt when all succeeded, else with the first failure and its index.
// `check` (may be empty) may turn a successful reply into a failure.
struct Sequence : std::enable_shared_from_this<Sequence> {
  CommandRouter* router = nullptr;
  std::vector<Command> commands;
  absl::Time deadline;
  bool dry_run = false;
  std::function<Status(size_t, const v1::CommandReply&)> check;
  std::function<void(std::optional<std::pair<size_t, Error>>)> done;
  size_t next = 0;

  void Step() {
    if (next == commands.size()) {
      done(std::nullopt);
      return;
    }
    const size_t i = next++;
    auto self = shared_from_this();
    router->ExecuteAsync(std::move(commands[i]), deadline, dry_run,
                         [self, i](Result<v1::CommandReply> result) {
                           if (!result) {
                             self->done(std::make_pair(i, result.error()));
                             return;
                           }
                           if (self->check) {
                             if (auto e = self->check(i, result.value())) {
                               self->done(std::make_pair(i, std::move(*e)));
                               return;
                             }
                           }
                           self->Step();
                         });
  }
};

void RunSequence(CommandRouter& router, std::vector<Command> commands, absl::Time deadline,
                 bool dry_run, std::function<Status(size_t, const v1::CommandReply&)> check,
                 std::function<void(std::optional<std::pair<size_t, Error>>)> done) {
  auto s = std::make_shared<Sequence>();
  s->router = &router;
  s->commands = std::move(commands);
  s->deadline = deadline;
  s->dry_run = dry_run;
  s->check = std::move(check);
  s->done = std::move(done);
  s->Step();
}

// A step that failed after the request's own stream committed: the caller must retry.
Error Unfinished(Error e, const std::string& recorded, const std::string& what) {
  e.message = absl::StrCat(recorded, " is recorded, but ", what, " is not: ", e.message,
                           ". Retry with the same command_id to finish");
  return e;
}

// The account side of a customer link or unlink.
state::v1::LinkAccountToCustomerRequest AccountSide(std::string_view kind,
                                                    const std::string& customer_id,
                                                    const std::string& account_id,
                                                    const std::string& command_id,
                                                    const v1::Actor& actor,
                                                    const std::string& correlation_id) {
  state::v1::LinkAccountToCustomerRequest step;
  step.set_command_id(CrossStreamSteps::StepCommandId(kind, CustomerStreamKey(customer_id),
                                                      command_id, account_id));
  *step.mutable_actor() = actor;
  step.set_correlation_id(correlation_id);
  step.set_account_id(account_id);
  step.set_customer_id(customer_id);
  return step;
}

// Names `field` in an error about one of the other debts.
Error AboutOtherDebt(Error e, size_t index, const std::string& account_id) {
  const std::string field = absl::StrCat("several_debts.other_account_ids[", index, "]");
  e.message = absl::StrCat("account ", account_id, ": ", e.message);
  e.field = field;
  for (FieldViolation& v : e.violations) v.field = field + " " + v.field;
  return e;
}

}  // namespace

std::string CrossStreamSteps::StepCommandId(std::string_view kind, std::string_view stream,
                                            std::string_view command_id,
                                            std::string_view target) {
  std::string material;
  for (std::string_view part : {kind, stream, command_id, target}) {
    material.append(part);
    material.push_back('\0');
  }
  return std::string(kind) + "-" + Hex(Sha256(material)).substr(0, 40);
}

Status RefuseCallerSetFields(const v1::SeveralDebts& several_debts) {
  if (several_debts.recorded_on_account_id().empty()) return std::nullopt;
  return Error::InvalidArgument("several_debts.recorded_on_account_id",
                                "is set by the service on the other accounts' copies; leave it "
                                "empty");
}

void CrossStreamSteps::Link(v1::LinkCustomerAccountRequest request, absl::Time deadline,
                            CommandCompletion done) {
  RunLink(std::move(request), deadline, /*at_opening=*/false, std::move(done));
}

void CrossStreamSteps::RunLink(v1::LinkCustomerAccountRequest request, absl::Time deadline,
                               bool at_opening, CommandCompletion done) {
  auto account = std::make_shared<state::v1::LinkAccountToCustomerRequest>(
      AccountSide("link", request.customer_id(), request.linked_account_id(),
                  request.command_id(), request.actor(), request.correlation_id()));
  account->set_reason(request.reason());
  account->set_moved_from_customer_id(request.moved_from_customer_id());
  if (request.has_occurred_at()) *account->mutable_occurred_at() = request.occurred_at();
  // What the customer's committed state says, read by the peek on the writer's thread and used
  // after the customer's step has been answered.
  struct Recorded {
    bool commercial = false;
    std::string consumer_time_zone;
  };
  auto commercial = std::make_shared<Recorded>();
  CommandRouter& router = router_;
  // 1. The account can take the link (dry run: nothing appended). An account with no case has
  // no stream yet: only the customer's side is recorded, and OpenCase with the customer_id
  // records the account's side when its case opens.
  // (The check has its own command id: the real step's carries the customer's flag, which the
  // check does not know yet, so the two requests differ.)
  state::v1::LinkAccountToCustomerRequest check = *account;
  check.set_command_id(account->command_id() + "-check");
  router.ExecuteAsync(
      Command(std::move(check)), deadline, /*dry_run=*/true,
      [&router, request = std::move(request), account, commercial, deadline, at_opening,
       done = std::move(done)](Result<v1::CommandReply> checked) mutable {
        bool no_case = false;
        if (!checked) {
          if (checked.error().reason != "ACCOUNT_NOT_FOUND") {
            done(checked.error());
            return;
          }
          no_case = true;
        }
        // 2. The customer's side; the peek reads the customer's recorded commercial flag.
        const std::string customer_id = request.customer_id();
        router.ExecuteAsync(
            CustomerCommand(std::move(request)), deadline,
            [&router, account, commercial, deadline, customer_id, no_case, at_opening,
             done = std::move(done)](Result<v1::CommandReply> customer) mutable {
              // A case opened for an account its customer listed before: the customer's side
              // is there already.
              const bool listed = at_opening && !customer &&
                                  customer.error().reason == "ACCOUNT_LINKED";
              if (!customer && !listed) {
                done(customer.error());
                return;
              }
              v1::CommandReply reply = listed ? v1::CommandReply() : std::move(customer.value());
              if (no_case) {
                done(std::move(reply));
                return;
              }
              // 3. The account's side.
              account->set_commercial(commercial->commercial);
              account->set_consumer_time_zone(commercial->consumer_time_zone);
              router.ExecuteAsync(
                  Command(*account), deadline, /*dry_run=*/false,
                  [reply = std::move(reply), account, customer_id,
                   done = std::move(done)](Result<v1::CommandReply> linked) mutable {
                    if (!linked) {
                      done(Unfinished(linked.error(), "the link on customer " + customer_id,
                                      "the link on account " + account->account_id()));
                      return;
                    }
                    done(std::move(reply));
                  });
            },
            [commercial](const CustomerState& c) {
              commercial->commercial = c.commercial();
              if (c.kind() == v1::CUSTOMER_KIND_PERSON) commercial->consumer_time_zone = c.time_zone();
            });
      });
}

void CrossStreamSteps::Unlink(v1::UnlinkCustomerAccountRequest request, absl::Time deadline,
                              CommandCompletion done) {
  auto account = std::make_shared<state::v1::LinkAccountToCustomerRequest>(
      AccountSide("unlink", request.customer_id(), request.linked_account_id(),
                  request.command_id(), request.actor(), request.correlation_id()));
  account->set_unlink(true);
  account->set_reason(request.reason());
  account->set_moved_to_customer_id(request.moved_to_customer_id());
  if (request.has_occurred_at()) *account->mutable_occurred_at() = request.occurred_at();
  const std::string customer_id = request.customer_id();
  CommandRouter& router = router_;
  router.ExecuteAsync(
      CustomerCommand(std::move(request)), deadline,
      [&router, account, deadline, customer_id,
       done = std::move(done)](Result<v1::CommandReply> customer) mutable {
        if (!customer) {
          done(customer.error());
          return;
        }
        router.ExecuteAsync(
            Command(*account), deadline, /*dry_run=*/false,
            [customer = std::move(customer.value()), account, customer_id,
             done = std::move(done)](Result<v1::CommandReply> unlinked) mutable {
              if (!unlinked) {
                done(Unfinished(unlinked.error(), "the unlink on customer " + customer_id,
                                "the unlink on account " + account->account_id()));
                return;
              }
              done(std::move(customer));
            });
      });
}

void CrossStreamSteps::OpenLinked(v1::OpenCaseRequest request, absl::Time deadline,
                                  CommandCompletion done) {
  v1::LinkCustomerAccountRequest link;
  link.set_command_id(StepCommandId("open-link", request.account_id(), request.command_id(),
                                    CustomerStreamKey(request.customer_id())));
  *link.mutable_actor() = request.actor();
  link.set_correlation_id(request.correlation_id());
  if (request.has_occurred_at()) *link.mutable_occurred_at() = request.occurred_at();
  link.set_customer_id(request.customer_id());
  link.set_linked_account_id(request.account_id());
  link.set_reason("linked at opening");
  router_.ExecuteAsync(
      Command(std::move(request)), deadline, /*dry_run=*/false,
      [this, link = std::move(link), deadline,
       done = std::move(done)](Result<v1::CommandReply> opened) mutable {
        if (!opened) {
          done(opened.error());
          return;
        }
        const std::string account_id = link.linked_account_id();
        RunLink(std::move(link), deadline, /*at_opening=*/true,
             [opened = std::move(opened.value()), account_id,
              done = std::move(done)](Result<v1::CommandReply> linked) mutable {
               if (!linked) {
                 done(Unfinished(linked.error(), "the case of account " + account_id,
                                 "its link to the customer"));
                 return;
               }
               done(std::move(opened));
             });
      });
}

template <typename Request>
void CrossStreamSteps::RunSeveralDebts(Request request, absl::Time deadline,
                                       CommandCompletion done) {
  const std::string account_id = request.account_id();
  const v1::SeveralDebts debts = request.several_debts();
  // The copies for the other accounts, identical for the dry run and the real step (so a
  // retried request finds its committed steps as repeats).
  std::vector<Command> copies;
  for (const std::string& other : debts.other_account_ids()) {
    Request copy = request;
    copy.set_account_id(other);
    copy.set_command_id(StepCommandId("debt", account_id, request.command_id(), other));
    copy.clear_expected_version();
    copy.mutable_several_debts()->set_recorded_on_account_id(account_id);
    if constexpr (std::is_same_v<Request, v1::RecordContactAttemptRequest>) {
      copy.clear_reservation_id();  // the reservation is the account's the call was placed on
      copy.set_took_place(true);    // once recorded on its own account, the contact happened
    }
    copies.push_back(Command(std::move(copy)));
  }
  bool reported = false;
  if constexpr (std::is_same_v<Request, v1::RecordContactAttemptRequest>) {
    reported = request.took_place() || !request.reservation_id().empty();
  }
  CommandRouter& router = router_;
  auto others = std::make_shared<std::vector<Command>>(copies);
  // 1. Every other account can take it: linked to the customer, and (unless the contact is a
  // report of one that took place) the rules allow it there too.
  RunSequence(
      router, std::move(copies), deadline, /*dry_run=*/true,
      [debts, reported](size_t i, const v1::CommandReply& reply) -> Status {
        const v1::ComplianceDecision& d = reply.decision();
        if (reported || d.outcome_code() != v1::DECISION_OUTCOME_BLOCK) return std::nullopt;
        Error e{Errc::kFailedPrecondition,
                d.rule_id(),
                absl::StrCat("a contact about several debts counts against each (F3); ",
                             d.rule_id(), ": ", d.reason()),
                "",
                debts.other_account_ids(static_cast<int>(i)),
                {{"rule_id", d.rule_id()}, {"counting_rule", "F3"}}};
        return e;
      },
      [&router, request = std::move(request), others, debts, account_id, deadline,
       done = std::move(done)](std::optional<std::pair<size_t, Error>> failed) mutable {
        if (failed) {
          done(AboutOtherDebt(std::move(failed->second), failed->first,
                              debts.other_account_ids(static_cast<int>(failed->first))));
          return;
        }
        // 2. The request on its own account.
        router.ExecuteAsync(
            Command(std::move(request)), deadline, /*dry_run=*/false,
            [&router, others, debts, account_id, deadline,
             done = std::move(done)](Result<v1::CommandReply> own) mutable {
              if (!own) {
                done(own.error());
                return;
              }
              // 3. The same on each other account.
              RunSequence(
                  router, std::move(*others), deadline, /*dry_run=*/false, {},
                  [own = std::move(own.value()), debts, account_id,
                   done = std::move(done)](std::optional<std::pair<size_t, Error>> failed) mutable {
                    if (failed) {
                      const std::string& other =
                          debts.other_account_ids(static_cast<int>(failed->first));
                      done(Unfinished(std::move(failed->second), "account " + account_id + "'s",
                                      "account " + other + "'s copy"));
                      return;
                    }
                    done(std::move(own));
                  });
            });
      });
}

void CrossStreamSteps::SeveralDebts(v1::RecordContactAttemptRequest request, absl::Time deadline,
                                    CommandCompletion done) {
  RunSeveralDebts(std::move(request), deadline, std::move(done));
}

void CrossStreamSteps::SeveralDebts(v1::UpdateFlagRequest request, absl::Time deadline,
                                    CommandCompletion done) {
  RunSeveralDebts(std::move(request), deadline, std::move(done));
}

}  // namespace collections
