#pragma once

#include "services/domain/error.h"

#include "collections/v1/policy.pb.h"

#include <string>

namespace collections::compliance {

// Loading and checking the compliance policy: the numbers of every rule, as versioned data
// (proto/collections/v1/policy.proto). Loaded once at start-up; a bad file fails fast with
// a message naming the file, line and field. Free functions, safe from any thread.

// The federal defaults of docs/rules.md, version "federal-2025". Equal to the shipped
// deploy/policy/federal-2025.textproto (a test keeps them together).
v1::CompliancePolicy DefaultPolicy();

// Reads a policy in protobuf text format from `path` and validates it. Returns
// kInvalidArgument when the file cannot be read ("<path>: cannot open"), does not parse
// ("<path>:<line>:<column>: <parser message>") or a number is out of range ("<path>: <field>
// must be ..."), with `field` naming the policy field.
Result<v1::CompliancePolicy> LoadPolicy(const std::string& path);

// Checks the ranges of every field (non-empty version, caps at least 1, earliest time of day
// before the latest, commercial hours present and start before end, commercial call cap 0 (no
// cap) to 100, ...). Returns the first violation as kInvalidArgument naming the field.
Status ValidatePolicy(const v1::CompliancePolicy& policy);

}  // namespace collections::compliance
