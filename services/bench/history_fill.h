#pragma once

#include "services/domain/error.h"
#include "services/kafka/kafka.h"

#include "collections/v1/events.pb.h"

#include <functional>
#include <string>
#include <vector>

// What the read and rebuild benchmarks share: filling a topic with the hash-chained histories of
// many accounts, the way live traffic interleaves them.
namespace collections::bench {

google::protobuf::Timestamp Ts(int64_t seconds);

// `events` events of `account`, one every `spacing_seconds` from 2025-01-01, chained as the
// writer chains them: the first a CaseOpened in USD of `principal_minor`, every one (the first
// too, after its CaseOpened) completed by body(event, sequence) before it is hashed.
std::vector<v1::EventEnvelope> ChainedHistory(
    const std::string& account, int events, int64_t spacing_seconds, const std::string& actor,
    int64_t principal_minor, const std::function<void(v1::EventEnvelope&, int)>& body);

// Makes `e` a PaymentPosted of 10.00 USD by ACH, applied to principal.
void SetPayment(v1::EventEnvelope& e, int sequence);

// The events of one account, `events` of them, chained as the writer chains them.
using HistoryOf = std::function<std::vector<v1::EventEnvelope>(const std::string& account,
                                                               int events)>;

// Appends accounts "<run>-<n>" for n in [from, to), each with history(account, events), one
// event of each account in turn (500 accounts at a time keep memory small), in transactions of
// 2,000 records per partition, through one transactional producer of its own.
Status FillTopic(const kafka::LogOptions& log, int32_t partitions, const std::string& run,
                 int64_t from, int64_t to, int events, const HistoryOf& history);

}  // namespace collections::bench
