// CompiledSet::compile: files every statement of every grant into the index
// described in index.hpp. One pass collects flat records, one sort groups them.
#include <algorithm>

#include "iam/policy/index.hpp"

namespace sluice::iam::policy {

namespace {

enum class Cls : uint8_t { Any, Scan, Run };

struct Record {
  uint32_t group;
  uint8_t effect;  // 0 Deny, 1 Allow
  Cls cls;
  std::string_view key;  // Run: relative-id literal prefix
  Entry e;
};

bool record_less(const Record& a, const Record& b) {
  if (a.group != b.group) return a.group < b.group;
  if (a.effect != b.effect) return a.effect < b.effect;
  if (a.cls != b.cls) return a.cls < b.cls;
  if (a.cls == Cls::Run) {
    int c = a.key.compare(b.key);
    if (c != 0) return c < 0;
  }
  return a.e.ord < b.e.ord;
}

// Files one statement's resources into `out` under `group`.
void file_resources(const Statement& st, uint32_t ord, uint32_t group, std::vector<Record>& out) {
  const uint8_t effect = st.effect == Effect::Deny ? 0 : 1;
  if (st.not_resource) {
    Record r{group, effect, Cls::Scan, {}, {}};
    r.e.ord = ord;
    r.e.not_resource = true;
    out.push_back(r);
    return;
  }
  for (const std::string& p : st.resources) {
    Record r{group, effect, Cls::Scan, {}, {}};
    r.e.ord = ord;
    r.e.pattern = p;
    size_t rel = 0;
    if (p == "*") {
      r.cls = Cls::Any;
    } else if (arn_rel_offset(p, rel) == 4) {
      std::string_view relid = std::string_view(p).substr(rel);
      size_t w = relid.find_first_of("*?");
      r.cls = Cls::Run;
      r.key = relid.substr(0, w);
      r.e.rel_exact = w == std::string_view::npos;
      r.e.exact = r.e.rel_exact && !has_wildcard(std::string_view(p).substr(0, rel));
    }
    out.push_back(r);
  }
}

}  // namespace

CompiledSet::~CompiledSet() = default;

std::shared_ptr<const CompiledSet> CompiledSet::compile(std::vector<Grant> grants) {
  std::shared_ptr<CompiledSet> set(new CompiledSet());
  set->grants_ = std::move(grants);
  set->index_ = std::make_unique<Index>();
  Index& ix = *set->index_;

  size_t n_actions = 0, n_stmts = 0;
  for (const Grant& g : set->grants_) {
    if (!g.doc) continue;
    n_stmts += g.doc->statements.size();
    for (const Statement& st : g.doc->statements) n_actions += st.actions.size();
  }
  ix.stmts.reserve(n_stmts);
  ix.exact.reserve(n_actions);
  CiTable wild_ids;
  wild_ids.reserve(n_actions);

  std::vector<Record> recs;
  recs.reserve(n_stmts * 2);
  uint32_t n_groups = 0;
  std::vector<uint32_t> seen;  // groups this statement was filed under (dedupe)
  for (size_t gi = 0; gi < set->grants_.size(); ++gi) {
    const Grant& g = set->grants_[gi];
    if (!g.doc) continue;
    for (size_t si = 0; si < g.doc->statements.size(); ++si) {
      const Statement& st = g.doc->statements[si];
      const uint32_t ord = static_cast<uint32_t>(ix.stmts.size());
      ix.stmts.push_back(StmtRef{&st, &g.scope, static_cast<uint32_t>(gi), static_cast<uint32_t>(si)});
      seen.clear();
      if (st.not_action) {
        if (ix.not_action == CiTable::kNone) ix.not_action = n_groups++;
        seen.push_back(ix.not_action);
      } else {
        for (const std::string& a : st.actions) {
          uint32_t id;
          if (has_wildcard(a)) {
            id = wild_ids.insert(a, n_groups);
            if (id == n_groups) ix.wild.push_back({a, id});
          } else {
            id = ix.exact.insert(a, n_groups);
          }
          if (id == n_groups) ++n_groups;
          if (std::find(seen.begin(), seen.end(), id) == seen.end()) seen.push_back(id);
        }
      }
      for (uint32_t group : seen) file_resources(st, ord, group, recs);
    }
  }

  std::sort(recs.begin(), recs.end(), record_less);

  ix.groups.resize(n_groups);
  if (ix.not_action != CiTable::kNone) ix.groups[ix.not_action].check_action = true;
  ix.entries.reserve(recs.size());
  for (size_t i = 0; i < recs.size();) {
    const Record& first = recs[i];
    Bucket& b = ix.groups[first.group].by_effect[first.effect];
    // Records of one (group, effect) are contiguous: Any, then Scan, then Run by key.
    size_t j = i;
    auto same_bucket = [&](size_t k) { return k < recs.size() && recs[k].group == first.group && recs[k].effect == first.effect; };
    auto take = [&](Cls cls, uint32_t& lo, uint32_t& hi) {
      lo = static_cast<uint32_t>(ix.entries.size());
      while (same_bucket(j) && recs[j].cls == cls) ix.entries.push_back(recs[j++].e);
      hi = static_cast<uint32_t>(ix.entries.size());
    };
    take(Cls::Any, b.any_b, b.any_e);
    take(Cls::Scan, b.scan_b, b.scan_e);
    b.run_b = static_cast<uint32_t>(ix.runs.size());
    while (same_bucket(j)) {
      Run run{recs[j].key, static_cast<uint32_t>(ix.entries.size()), 0};
      while (same_bucket(j) && recs[j].key == run.key) ix.entries.push_back(recs[j++].e);
      run.end = static_cast<uint32_t>(ix.entries.size());
      ix.runs.push_back(run);
    }
    b.run_e = static_cast<uint32_t>(ix.runs.size());
    i = j;
  }
  return set;
}

}  // namespace sluice::iam::policy
