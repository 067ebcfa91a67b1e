#pragma once

#include "services/domain/pipeline.h"

#include <string>

namespace collections {

// What the pipeline did with a command, as the tables of the pipeline's tests spell it:
// "append", "repeat", "dry-run", "refused <REASON>", "append+refused <REASON>".
inline std::string Kind(const CommandOutcome& o) {
  switch (o.kind) {
    case CommandOutcome::Kind::kRefused:
      return "refused " + o.error->reason;
    case CommandOutcome::Kind::kRepeat:
      return "repeat";
    case CommandOutcome::Kind::kAppend:
      return o.error ? "append+refused " + o.error->reason : "append";
    case CommandOutcome::Kind::kDryRun:
      return "dry-run";
  }
  return "?";
}

}  // namespace collections
