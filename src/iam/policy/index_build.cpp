// build_index: files every statement into the structures described in index.hpp.
// One pass produces flat records; a counting sort groups them by (action group,
// effect, class) keeping ordinal order; only the prefix runs need a key sort.
#include <algorithm>

#include "iam/policy/index.hpp"

namespace sluice::iam::policy {

namespace {

enum Cls : uint8_t { kAny = 0, kScan = 1, kRun = 2 };

struct Record {
  uint32_t bucket;       // (group * 2 + effect) * 3 + class
  std::string_view key;  // kRun: relative-id literal prefix
  Entry e;
};

// Files one statement's resources under `group`.
void file_resources(const Statement& st, uint32_t ord, uint32_t group, std::vector<Record>& out) {
  const uint32_t base = (group * 2 + (st.effect == Effect::Deny ? 0 : 1)) * 3;
  if (st.not_resource) {
    Record r{base + kScan, {}, {}};
    r.e.ord = ord;
    r.e.not_resource = true;
    out.push_back(r);
    return;
  }
  for (const std::string& p : st.resources) {
    Record r{base + kScan, {}, {}};
    r.e.ord = ord;
    r.e.pattern = p;
    size_t rel = 0;
    if (p.size() == 1 && p[0] == '*') {
      r.bucket = base + kAny;
    } else if (arn_rel_offset(p, rel) == 4) {
      std::string_view relid = std::string_view(p).substr(rel);
      size_t w = 0;
      while (w < relid.size() && relid[w] != '*' && relid[w] != '?') ++w;
      r.bucket = base + kRun;
      r.key = relid.substr(0, w);
      r.e.rel_exact = w == relid.size();
      r.e.exact = r.e.rel_exact && !has_wildcard(std::string_view(p).substr(0, rel));
      if (rel <= UINT16_MAX) r.e.rel_off = static_cast<uint16_t>(rel);
    }
    out.push_back(r);
  }
}

}  // namespace

void build_index(IndexData& ix) {
  size_t n_exact = 0, n_wild = 0, n_res = 0;
  for (const StmtRef& s : ix.stmts) {
    for (const std::string& a : s.st->actions) (has_wildcard(a) ? n_wild : n_exact)++;
    n_res += s.st->resources.size();
  }
  ix.exact.reserve(n_exact);
  CiTable wild_ids;
  wild_ids.reserve(n_wild);

  std::vector<Record> recs;
  recs.reserve(n_res + ix.stmts.size());
  uint32_t n_groups = 0;
  uint32_t seen[8];  // groups this statement was filed under (dedupe); more spill below
  std::vector<uint32_t> seen_more;
  for (uint32_t ord = 0; ord < ix.stmts.size(); ++ord) {
    const Statement& st = *ix.stmts[ord].st;
    size_t n_seen = 0;
    seen_more.clear();
    auto file = [&](uint32_t id) {
      for (size_t i = 0; i < n_seen && i < 8; ++i)
        if (seen[i] == id) return;
      if (n_seen >= 8 && std::find(seen_more.begin(), seen_more.end(), id) != seen_more.end()) return;
      if (n_seen < 8) seen[n_seen] = id;
      else seen_more.push_back(id);
      ++n_seen;
      file_resources(st, ord, id, recs);
    };
    if (st.not_action) {
      if (ix.not_action == CiTable::kNone) ix.not_action = n_groups++;
      file(ix.not_action);
      continue;
    }
    for (const std::string& a : st.actions) {
      uint32_t id;
      if (has_wildcard(a)) {
        id = wild_ids.insert(a, n_groups);
        if (id == n_groups) ix.wild.push_back({a, id});
      } else {
        id = ix.exact.insert(a, n_groups);
      }
      if (id == n_groups) ++n_groups;
      file(id);
    }
  }

  // Counting sort by bucket: stable, so each bucket stays in ordinal order.
  const size_t n_buckets = static_cast<size_t>(n_groups) * 6;
  std::vector<uint32_t> start(n_buckets + 1, 0);
  for (const Record& r : recs) ++start[r.bucket + 1];
  for (size_t b = 0; b < n_buckets; ++b) start[b + 1] += start[b];
  std::vector<uint32_t> order(recs.size());
  {
    std::vector<uint32_t> next(start.begin(), start.end() - 1);
    for (uint32_t i = 0; i < recs.size(); ++i) order[next[recs[i].bucket]++] = i;
  }

  ix.groups.assign(n_groups, Group{});
  if (ix.not_action != CiTable::kNone) ix.groups[ix.not_action].check_action = true;
  ix.entries.resize(recs.size());
  for (uint32_t i = 0; i < recs.size(); ++i) ix.entries[i] = recs[order[i]].e;
  for (uint32_t g = 0; g < n_groups; ++g) {
    for (uint32_t effect = 0; effect < 2; ++effect) {
      Bucket& b = ix.groups[g].by_effect[effect];
      const size_t base = (g * 2 + effect) * 3;
      b.any_b = start[base + kAny];
      b.any_e = start[base + kAny + 1];
      b.scan_b = start[base + kScan];
      b.scan_e = start[base + kScan + 1];
      // Runs: sort this bucket's run records by key (stable: ordinals stay ascending).
      const uint32_t lo = start[base + kRun], hi = start[base + kRun + 1];
      b.run_b = b.run_e = static_cast<uint32_t>(ix.runs.size());
      if (lo == hi) continue;
      std::stable_sort(order.begin() + lo, order.begin() + hi,
                       [&](uint32_t x, uint32_t y) { return recs[x].key < recs[y].key; });
      for (uint32_t i = lo; i < hi;) {
        Run run{recs[order[i]].key, i, 0};
        while (i < hi && recs[order[i]].key == run.key) {
          ix.entries[i] = recs[order[i]].e;
          ++i;
        }
        run.end = i;
        ix.runs.push_back(run);
      }
      b.run_e = static_cast<uint32_t>(ix.runs.size());
    }
  }
}

}  // namespace sluice::iam::policy
