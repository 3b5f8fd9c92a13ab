// CompiledSet::evaluate: finds the smallest matching Deny ordinal, else the
// smallest matching Allow ordinal, visiting only the index entries that can match.
// No allocation except copying a long Sid into the Decision (and a request naming
// more than eight resources, whose pre-split views go to the heap).
#include <algorithm>

#include "iam/policy/condition.hpp"
#include "iam/policy/index.hpp"

namespace sluice::iam::policy {

bool action_matches(const Statement& st, std::string_view action) {
  bool any = false;
  for (const std::string& a : st.actions) {
    if (wildcard_match(a, action, true)) {
      any = true;
      break;
    }
  }
  return any != st.not_action;
}

bool resource_matches_any(const Statement& st, std::span<const std::string> resources) {
  for (const std::string& r : resources) {
    bool any = false;
    for (const std::string& p : st.resources) {
      if (wildcard_match(p, r, false)) {
        any = true;
        break;
      }
    }
    if (any != st.not_resource) return true;
  }
  return false;
}

namespace {

constexpr uint32_t kNone = UINT32_MAX;

// "acs:mq:*:*:" against "acs:mq:local:1234567890123456:": both end with their 4th ':'.
bool head_match(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    size_t pc = p.find(':'), sc = s.find(':');
    std::string_view pf = p.substr(0, pc), sf = s.substr(0, sc);
    if (!(pf.size() == 1 && pf[0] == '*') && !wildcard_match(pf, sf, false)) return false;
    p.remove_prefix(pc + 1);
    s.remove_prefix(sc + 1);
  }
  return s.empty();
}

// A request resource, pre-split once per decision.
struct Res {
  std::string_view s;
  std::string_view rel;
  int colons = 0;  // up to 4
};

class Search {
 public:
  Search(const IndexData& ix, const Request& r, std::span<const Res> res)
      : ix_(ix), r_(r), res_(res) {}

  // The smallest ordinal in `b` (below `best`) whose statement fully matches.
  void bucket(const Bucket& b, bool check_action, uint32_t& best) const {
    for (uint32_t i = b.any_b; i < b.any_e; ++i) {
      uint32_t ord = ix_.entries[i].ord;
      if (ord >= best) break;
      if (accept(ord, check_action)) {
        best = ord;
        break;
      }
    }
    for (uint32_t i = b.scan_b; i < b.scan_e; ++i) {
      const Entry& e = ix_.entries[i];
      if (e.ord >= best) break;
      bool hit = e.not_resource ? resource_matches_any(*ix_.stmts[e.ord].st, r_.resources) : any_resource(e.pattern);
      if (hit && accept(e.ord, check_action)) {
        best = e.ord;
        break;
      }
    }
    if (b.run_b == b.run_e) return;
    for (const Res& rs : res_) {
      if (rs.colons < 4) continue;  // a pattern with four ':' cannot match it
      if (!rs.rel.empty() && rs.rel.find(':') != std::string_view::npos) {
        // More than four ':' — a wildcard in the pattern's region/account could
        // absorb one, so the relative-id key is not reliable: check every run.
        for (uint32_t k = b.run_b; k < b.run_e; ++k) run(ix_.runs[k], rs, false, check_action, best);
        continue;
      }
      prefixes(b, rs, check_action, best);
    }
  }

  bool accept(uint32_t ord, bool check_action) const {
    const StmtRef& s = ix_.stmts[ord];
    if (!s.scope->covers(r_.resource_group_id)) return false;
    if (check_action && !action_matches(*s.st, r_.action)) return false;
    return s.st->conditions.empty() || conditions_hold(s.st->conditions, r_.context);
  }

 private:
  bool any_resource(std::string_view pattern) const {
    for (const Res& rs : res_)
      if (wildcard_match(pattern, rs.s, false)) return true;
    return false;
  }

  // `aligned`: rs.rel is the relative id a 4-colon pattern's relative id must match
  // (false in the more-than-four-colons fallback, where only a full match decides).
  void run(const Run& run, const Res& rs, bool aligned, bool check_action, uint32_t& best) const {
    for (uint32_t i = run.begin; i < run.end; ++i) {
      const Entry& e = ix_.entries[i];
      if (e.ord >= best) break;
      bool hit;
      if (e.exact) {
        hit = e.pattern == rs.s;
      } else if (aligned && e.rel_off != 0) {
        // Both have exactly four ':' before the relative id, so the pattern's
        // wildcards cannot span fields: match the relative ids, then field by field.
        std::string_view prel = e.pattern.substr(e.rel_off);
        hit = (e.rel_exact ? rs.rel.size() == prel.size() : wildcard_match(prel, rs.rel, false)) &&
              head_match(e.pattern.substr(0, e.rel_off), rs.s.substr(0, rs.s.size() - rs.rel.size()));
      } else {
        hit = wildcard_match(e.pattern, rs.s, false);
      }
      if (hit && accept(e.ord, check_action)) {
        best = e.ord;
        return;
      }
    }
  }

  // Visits every run whose key is a prefix of rs.rel. Keys are sorted; each step
  // takes the largest key <= q: if it is a prefix of q, visit it and continue
  // below it; otherwise no key longer than their common prefix can be a prefix of
  // q, so shorten q to that. q shrinks every step.
  void prefixes(const Bucket& b, const Res& rs, bool check_action, uint32_t& best) const {
    std::string_view q = rs.rel;
    const Run* lo = ix_.runs.data() + b.run_b;
    const Run* hi = ix_.runs.data() + b.run_e;
    while (lo < hi) {
      const Run* it = std::upper_bound(lo, hi, q, [](std::string_view v, const Run& r) { return v < r.key; });
      if (it == lo) return;
      --it;
      std::string_view k = it->key;
      if (q.substr(0, k.size()) == k) {
        run(*it, rs, true, check_action, best);
        if (k.empty()) return;
        q = q.substr(0, k.size() - 1);
      } else {
        size_t l = 0;
        while (l < k.size() && l < q.size() && k[l] == q[l]) ++l;
        q = q.substr(0, l);
      }
      hi = it;  // every remaining candidate is <= q < *it
    }
  }

  const IndexData& ix_;
  const Request& r_;
  std::span<const Res> res_;
};

}  // namespace

Decision CompiledSet::evaluate(const Request& r) const {
  // A request names at least one resource; with none, nothing can match (the
  // index's "*" lists would otherwise match without looking at any resource).
  if (r.resources.empty()) return Decision{};
  Index& lazy = *index_;
  if (!lazy.ready.load(std::memory_order_acquire)) {
    if (lazy.mode == Indexing::Never ||
        lazy.uses.fetch_add(1, std::memory_order_relaxed) + 1 < kLazyIndexAfter)
      return scan_decide(lazy, r);
    // The set is being reused: build the index once (others wait for it here).
    std::call_once(lazy.once, [&lazy] {
      build_index(lazy);
      lazy.ready.store(true, std::memory_order_release);
    });
  }
  const IndexData& ix = lazy;
  // Pre-split the request's resources (usually one or two).
  constexpr size_t kInline = 8;
  Res inline_res[kInline];
  std::vector<Res> heap_res;
  Res* res = inline_res;
  if (r.resources.size() > kInline) {
    heap_res.resize(r.resources.size());
    res = heap_res.data();
  }
  for (size_t i = 0; i < r.resources.size(); ++i) {
    Res& x = res[i];
    x.s = r.resources[i];
    size_t rel = 0;
    x.colons = arn_rel_offset(x.s, rel);
    if (x.colons == 4) x.rel = x.s.substr(rel);
  }
  Search search(ix, r, std::span<const Res>(res, r.resources.size()));

  // Deny first (any Deny wins), then Allow.
  uint32_t best[2] = {kNone, kNone};
  const uint32_t exact = ix.exact.find(r.action);
  // Wildcard action groups that match, found once for both phases.
  constexpr size_t kMaxWild = 32;
  uint32_t wild_hits[kMaxWild];
  size_t n_wild = 0;
  bool wild_overflow = false;
  for (const IndexData::Wild& w : ix.wild) {
    if (!wildcard_match(w.pattern, r.action, true)) continue;
    if (n_wild < kMaxWild) wild_hits[n_wild++] = w.group;
    else wild_overflow = true;
  }
  for (int effect = 0; effect < 2; ++effect) {
    uint32_t& b = best[effect];
    if (exact != CiTable::kNone) search.bucket(ix.groups[exact].by_effect[effect], false, b);
    if (!wild_overflow) {
      for (size_t i = 0; i < n_wild; ++i) search.bucket(ix.groups[wild_hits[i]].by_effect[effect], false, b);
    } else {  // more than kMaxWild matching patterns: match again rather than allocate
      for (const IndexData::Wild& w : ix.wild)
        if (wildcard_match(w.pattern, r.action, true)) search.bucket(ix.groups[w.group].by_effect[effect], false, b);
    }
    if (ix.not_action != CiTable::kNone) search.bucket(ix.groups[ix.not_action].by_effect[effect], true, b);
    if (b != kNone) return decision_for(ix, effect == 0 ? Effect::Deny : Effect::Allow, b);
  }
  return Decision{};
}

}  // namespace sluice::iam::policy
