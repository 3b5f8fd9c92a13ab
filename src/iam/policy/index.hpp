#pragma once
// The compiled form of a principal's grants (CompiledSet::Index).
//
// Every statement gets an ordinal in (grant index, statement index) order, so
// "the first matching statement" is "the smallest matching ordinal". Statements
// are filed by action, then by effect, then by resource:
//
//   action  -> exact actions in a case-insensitive hash table; each distinct
//              wildcard action pattern ("mq:List*") once in a list that is
//              matched against the request; NotAction statements in one group
//              whose action is checked per statement.
//   effect  -> Deny and Allow kept apart: Deny is searched first, and Allow
//              only when no Deny matched.
//   resource-> "*" (matches anything, no check); ARN patterns filed under the
//              literal prefix of their relative id (the part after the 4th ':',
//              up to the first wildcard), because regions and accounts are
//              usually "*" and the relative id ("topic/<inst>/<topic>") is what
//              tells patterns apart; everything else (NotResource, patterns with
//              fewer than four ':') is scanned.
//
// Each list is sorted by ordinal, so a search stops at the first hit or as soon
// as it passes the best ordinal found so far.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "iam/policy/ci_table.hpp"
#include "iam/policy/document.hpp"
#include "iam/policy/policy.hpp"

namespace sluice::iam::policy {

struct StmtRef {
  const Statement* st = nullptr;
  const Scope* scope = nullptr;
  uint32_t grant = 0;
  uint32_t index = 0;
};

struct Entry {
  uint32_t ord = 0;
  bool exact = false;       // pattern has no wildcard: compare for equality
  bool rel_exact = false;   // the relative id has no wildcard: its length must equal the key's
  bool not_resource = false;  // scan entry standing for a NotResource statement
  uint16_t rel_off = 0;       // Run entries: where the relative id starts (0: unknown, match whole)
  std::string_view pattern;   // the resource pattern (empty for not_resource)
};

// Entries [begin, end) whose relative-id literal prefix is `key`.
struct Run {
  std::string_view key;
  uint32_t begin = 0, end = 0;
};

struct Bucket {
  uint32_t any_b = 0, any_e = 0;    // into entries: resource "*"
  uint32_t scan_b = 0, scan_e = 0;  // into entries: checked one by one
  uint32_t run_b = 0, run_e = 0;    // into runs, sorted by key
};

struct Group {
  Bucket by_effect[2];        // [0] Deny, [1] Allow
  bool check_action = false;  // the NotAction group
};

// The index proper; CompiledSet::Index (private in policy.hpp) is a thin name for it
// so that helpers in evaluate.cpp can take it by reference.
struct IndexData {
  std::vector<StmtRef> stmts;   // by ordinal
  std::vector<Entry> entries;
  std::vector<Run> runs;
  std::vector<Group> groups;
  CiTable exact;                // exact action -> group
  struct Wild {
    std::string_view pattern;
    uint32_t group;
  };
  std::vector<Wild> wild;       // one per distinct wildcard action pattern
  uint32_t not_action = CiTable::kNone;
};

// The lazily built part lives beside `stmts`, which compile() fills and nobody
// changes afterwards: scans may run while another thread builds the index.
struct CompiledSet::Index : IndexData {
  Indexing mode = Indexing::Auto;
  std::atomic<bool> ready{false};   // the lookup structures are built (release/acquire)
  std::atomic<uint32_t> uses{0};    // decisions answered by scanning (Auto)
  std::once_flag once;
};

// Fills everything in `ix` but `stmts` (which must be complete).
void build_index(IndexData& ix);
// The unindexed path: every statement in ordinal order.
Decision scan_decide(const IndexData& ix, const Request& r);
// Builds the Decision for the statement with ordinal `ord`.
Decision decision_for(const IndexData& ix, Effect effect, uint32_t ord);

// Splits an ARN after its 4th ':' ("acs:mq:r:acct:topic/x" -> offset of "topic/x").
// Returns the number of ':' seen before that point (< 4 if the string has fewer).
inline int arn_rel_offset(std::string_view s, size_t& rel) {
  int colons = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ':' && ++colons == 4) {
      rel = i + 1;
      return 4;
    }
  }
  return colons;
}

// (string_view::find_first_of calls memchr once per character: too slow for compile.)
inline bool has_wildcard(std::string_view s) {
  for (char c : s)
    if (c == '*' || c == '?') return true;
  return false;
}

// Statement-level checks shared by the index and the fallbacks.
bool action_matches(const Statement& st, std::string_view action);        // honours NotAction
bool resource_matches_any(const Statement& st, std::span<const std::string> resources);  // honours NotResource

}  // namespace sluice::iam::policy
