// GroupMembership: which process of a deployment writes which partition, decided by Kafka's
// consumer-group protocol (see kafka.h).
#include "services/kafka/client.h"
#include "services/kafka/kafka.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace collections::kafka {
namespace {
using namespace detail;

std::vector<int32_t> Ids(const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<int32_t> ids;
  for (const RdKafka::TopicPartition* tp : partitions) ids.push_back(tp->partition());
  return ids;
}

std::string Joined(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) absl::StrAppend(&out, out.empty() ? "" : ",", id);
  return out;
}

class MembershipImpl final : public GroupMembership, public RdKafka::RebalanceCb {
 public:
  MembershipImpl(LogOptions options, MembershipOptions membership, Listener listener)
      : options_(std::move(options)),
        membership_(std::move(membership)),
        listener_(std::move(listener)) {}

  ~MembershipImpl() override {
    Leave();
    if (describe_queue_ != nullptr) rd_kafka_queue_destroy(describe_queue_);
  }

  Status Open() {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    const int session = membership_.session_timeout_ms;
    if (auto e = Configure(
            *conf, options_,
            {{"group.id", membership_.group_id},
             // Dynamic membership (no group.instance.id): a process that stops leaves the
            // group, and its partitions move at once rather than after the session timeout.
            // Who a member is travels in its client.id: "<instance>@<address>".
            {"client.id", membership_.instance_id + "@" + membership_.advertised_address},
             {"partition.assignment.strategy", "cooperative-sticky"},
             {"session.timeout.ms", std::to_string(session)},
             {"heartbeat.interval.ms", std::to_string(std::max(100, session / 5))},
             {"enable.auto.commit", "false"},
             {"enable.auto.offset.store", "false"},
             {"isolation.level", "read_committed"}})) {
      return e;
    }
    std::string err;
    events_ = std::make_unique<ClientEvents>("owner[" + membership_.instance_id + "]",
                                             options_.on_statistics);
    conf->set("event_cb", events_.get(), err);
    if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), err) !=
        RdKafka::Conf::CONF_OK) {
      return Unavailable("membership: " + err);
    }
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer_) return Unavailable("membership consumer: " + err);
    if (RdKafka::ErrorCode code = consumer_->subscribe({options_.topic});
        code != RdKafka::ERR_NO_ERROR) {
      return Unavailable("subscribing to " + options_.topic + ": " + RdKafka::err2str(code));
    }
    thread_ = std::thread([this] { Run(); });
    return std::nullopt;
  }

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const std::vector<int32_t> ids = Ids(partitions);
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      if (RdKafka::Error* e = consumer->incremental_assign(partitions)) {
        LogError("ownership", "assigning partitions ", Joined(ids), ": ", e->str());
        delete e;
        return;
      }
      // Owned, never read: the writers read their partitions with their own readers.
      consumer->pause(partitions);
      {
        std::lock_guard lock(mutex_);
        owned_.insert(ids.begin(), ids.end());
        for (int32_t id : ids) {
          owners_[id] = PartitionOwner{membership_.instance_id, membership_.advertised_address};
        }
      }
      if (!ids.empty()) LogInfo("ownership", "assigned partitions ", Joined(ids));
      // Even an empty assignment: the listener learns the process is a member.
      if (listener_.assigned) listener_.assigned(ids);
    } else {
      const bool lost = consumer->assignment_lost();
      if (!ids.empty()) {
        Log(lost ? LogLevel::kWarn : LogLevel::kInfo, "ownership",
            absl::StrCat(lost ? "lost" : "revoked", " partitions ", Joined(ids)));
      }
      if (listener_.revoked && !ids.empty()) listener_.revoked(ids, lost);
      {
        std::lock_guard lock(mutex_);
        for (int32_t id : ids) {
          owned_.erase(id);
          owners_.erase(id);  // not here any more; where next, the group tells after this round
        }
        settled_ = false;
      }
      if (RdKafka::Error* e = consumer->incremental_unassign(partitions)) {
        LogWarn("ownership", "unassigning partitions ", Joined(ids), ": ", e->str());
        delete e;
      }
    }
    refresh_ = true;
  }

  void Leave() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    std::lock_guard join(join_mutex_);  // Leave may be called from two threads at once
    if (thread_.joinable()) thread_.join();
  }

  std::map<int32_t, PartitionOwner> Owners() const override {
    std::lock_guard lock(mutex_);
    return owners_;
  }
  std::vector<std::string> Members() override {
    // A description asked for after this call (the membership's thread sends it), or the last
    // one after 4 s.
    std::unique_lock lock(mutex_);
    const uint64_t asked = ++describe_wanted_;
    refresh_ = true;
    described_.wait_for(lock, std::chrono::seconds(4),
                        [&] { return describe_answered_ >= asked || stopping_ || ended_; });
    return members_;
  }
  void Refresh() override { refresh_ = true; }

  void WhenOwnerKnown(int32_t partition, std::chrono::steady_clock::time_point until,
                      std::function<void()> then, const std::string& stale_instance) override {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_ && !ended_ && !KnownLocked(partition, stale_instance)) {
        waiters_.push_back(Waiter{partition, until, std::move(then), stale_instance});
        return;
      }
    }
    then();
  }

  std::string RecordedOwner(int32_t partition) override {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), partition);
    std::string owner;
    if (rd_kafka_committed(consumer_->c_ptr(), list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const rd_kafka_topic_partition_t& tp = list->elems[0];
      if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR && tp.metadata != nullptr) {
        owner.assign(static_cast<const char*>(tp.metadata), tp.metadata_size);
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return owner;
  }

  void RecordOwner(int32_t partition) override {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), partition);
    tp->offset = 0;  // nothing is read from the group's offsets; the metadata is the record
    const std::string& me = membership_.instance_id;
    tp->metadata = std::malloc(me.size());
    std::memcpy(tp->metadata, me.data(), me.size());
    tp->metadata_size = me.size();
    if (rd_kafka_resp_err_t err = rd_kafka_commit(consumer_->c_ptr(), list, 0)) {
      // Best effort: without the record a later owner waits for the broker to abort what this
      // one left open (transaction.timeout.ms) instead of fencing it at once.
      LogWarn("ownership", "recording ownership of partition ", partition, ": ",
              rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(list);
  }

 private:
  void Run() {
    auto last_describe = std::chrono::steady_clock::now() - std::chrono::hours(1);
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
      }
      std::unique_ptr<RdKafka::Message> message(consumer_->consume(100));
      if (message && message->err() == RdKafka::ERR__FATAL) {
        // The group ended this member for good: what it owned is owned elsewhere now.
        std::string reason;
        RdKafka::ErrorCode code = consumer_->fatal_error(reason);
        LogError("ownership", "ALERT OWNERSHIP_LOST the writer group ended this member (",
                 RdKafka::err2str(code), ": ", reason,
                 "): every partition it wrote is stopped; restart this process");
        std::vector<int32_t> all;
        {
          std::lock_guard lock(mutex_);
          all.assign(owned_.begin(), owned_.end());
          owned_.clear();
          ended_ = true;
        }
        described_.notify_all();
        if (listener_.revoked && !all.empty()) listener_.revoked(all, /*lost=*/true);
        SettleWaiters(/*all=*/true);
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_; });
        break;
      }
      const auto now = std::chrono::steady_clock::now();
      // While a rebalance is under way or a command waits for an owner, the picture is
      // described again within a few hundred milliseconds; otherwise every few seconds.
      bool waiting = false;
      {
        std::lock_guard lock(mutex_);
        waiting = !waiters_.empty() || !settled_;
      }
      const auto every = waiting ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
      if (!describing_ && (refresh_.exchange(false) || now - last_describe > every)) {
        SendDescribe();
        last_describe = now;
      }
      if (describing_) ReceiveDescription();
      SettleWaiters(/*all=*/false);
    }
    SettleWaiters(/*all=*/true);
    described_.notify_all();
    // A clean leave: the revocation runs through the listener (writers stop), then the group
    // reassigns at once instead of after the session timeout.
    consumer_->close();
  }

  // The partition has an owner, and it is not `stale_instance`.
  bool KnownLocked(int32_t partition, const std::string& stale_instance) const {
    auto it = owners_.find(partition);
    return it != owners_.end() && (stale_instance.empty() || it->second.instance_id != stale_instance);
  }

  // Calls the waiters whose partition has an owner now or whose time is up (every one: `all`).
  void SettleWaiters(bool all) {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mutex_);
      const auto now = std::chrono::steady_clock::now();
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (all || now >= it->until || KnownLocked(it->partition, it->stale_instance)) {
          ready.push_back(std::move(it->then));
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& then : ready) then();
  }

  // Asks the group coordinator to describe the group; the answer is read by
  // ReceiveDescription. One request at a time, and none ever times out on the client: in
  // librdkafka 2.0.2 an admin request that times out while it waits for its coordinator aborts
  // the process once the coordinator answers (an assertion in rd_kafka_enq_once_del_source_return,
  // met when a broker went away and came back). While no broker answers, the request simply
  // waits and nothing new is described.
  void SendDescribe() {
    rd_kafka_t* rk = consumer_->c_ptr();
    if (describe_queue_ == nullptr) describe_queue_ = rd_kafka_queue_new(rk);
    const char* groups[] = {membership_.group_id.c_str()};
    rd_kafka_AdminOptions_t* admin =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(admin, 3600 * 1000, errstr, sizeof errstr);
    {
      std::lock_guard lock(mutex_);
      describe_sent_for_ = describe_wanted_;
    }
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, admin, describe_queue_);
    rd_kafka_AdminOptions_destroy(admin);
    describing_ = true;
  }

  // Takes the answer to SendDescribe when it has come: refreshes owners_ and members_.
  void ReceiveDescription() {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(describe_queue_, 0);
    if (ev == nullptr) return;
    describing_ = false;
    std::optional<std::map<int32_t, PartitionOwner>> owners;
    std::vector<std::string> members;
    bool stable = false;
    if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      size_t count = 0;
      const rd_kafka_ConsumerGroupDescription_t** descriptions =
          rd_kafka_DescribeConsumerGroups_result_groups(
              rd_kafka_event_DescribeConsumerGroups_result(ev), &count);
      if (count == 1 && rd_kafka_ConsumerGroupDescription_error(descriptions[0]) == nullptr) {
        owners.emplace();
        const size_t n = rd_kafka_ConsumerGroupDescription_member_count(descriptions[0]);
        for (size_t i = 0; i < n; ++i) {
          const rd_kafka_MemberDescription_t* m =
              rd_kafka_ConsumerGroupDescription_member(descriptions[0], i);
          const std::string client = rd_kafka_MemberDescription_client_id(m) != nullptr
                                         ? rd_kafka_MemberDescription_client_id(m)
                                         : "";
          const size_t at = client.rfind('@');
          PartitionOwner owner{client.substr(0, at == std::string::npos ? client.size() : at),
                               at == std::string::npos ? "" : client.substr(at + 1)};
          members.push_back(owner.instance_id);
          const rd_kafka_topic_partition_list_t* parts =
              rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
          for (int j = 0; parts != nullptr && j < parts->cnt; ++j) {
            if (options_.topic == parts->elems[j].topic) {
              (*owners)[parts->elems[j].partition] = owner;
            }
          }
        }
        // Not Stable: members are joining or leaving, and what they own is about to change.
        stable = rd_kafka_ConsumerGroupDescription_state(descriptions[0]) ==
                 RD_KAFKA_CONSUMER_GROUP_STATE_STABLE;
      }
    }
    rd_kafka_event_destroy(ev);
    {
      std::lock_guard lock(mutex_);
      if (owners) {
        owners_ = std::move(*owners);
        members_ = std::move(members);
        settled_ = stable;
      }
      describe_answered_ = describe_sent_for_;
    }
    described_.notify_all();
  }

  const LogOptions options_;
  const MembershipOptions membership_;
  const Listener listener_;
  std::unique_ptr<ClientEvents> events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> refresh_{true};

  mutable std::mutex mutex_;
  std::mutex join_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                    // guarded by mutex_
  std::set<int32_t> owned_;                  // guarded by mutex_
  std::map<int32_t, PartitionOwner> owners_;  // guarded by mutex_
  std::vector<std::string> members_;         // guarded by mutex_
  bool settled_ = false;                     // guarded by mutex_: the last description was Stable
  bool ended_ = false;  // guarded by mutex_: the group ended this member (a fatal error)
  // Descriptions: Members() asks for one (describe_wanted_ counts the asks); the one sent
  // answers the asks made before it was sent (describe_sent_for_) once it is answered
  // (describe_answered_). All guarded by mutex_.
  uint64_t describe_wanted_ = 0;
  uint64_t describe_sent_for_ = 0;
  uint64_t describe_answered_ = 0;
  std::condition_variable described_;
  // The membership's thread only: the queue the answers come to, and whether one is awaited.
  rd_kafka_queue_t* describe_queue_ = nullptr;
  bool describing_ = false;
  struct Waiter {
    int32_t partition;
    std::chrono::steady_clock::time_point until;
    std::function<void()> then;
    std::string stale_instance;
  };
  std::list<Waiter> waiters_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<GroupMembership>> GroupMembership::Join(const LogOptions& options,
                                                               MembershipOptions membership,
                                                               Listener listener) {
  auto member = std::make_unique<MembershipImpl>(options, std::move(membership),
                                                 std::move(listener));
  if (auto e = member->Open()) return *e;
  return std::unique_ptr<GroupMembership>(std::move(member));
}

Status FenceTransactionalIds(const LogOptions& options,
                             const std::vector<std::string>& transactional_ids, int timeout_ms) {
  for (const std::string& id : transactional_ids) {
    auto producer = TransactionalProducer::Create(options, id);
    if (!producer) return producer.error();
    if (auto e = producer.value()->Init(timeout_ms)) return e;
  }
  return std::nullopt;
}

}  // namespace collections::kafka
