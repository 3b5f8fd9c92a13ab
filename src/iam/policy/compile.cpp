// CompiledSet::compile: numbers every statement (the ordinal order is the
// "first matching statement" order) and, depending on the Indexing mode and the
// set's size, builds the index now or leaves it to the first decisions.
#include "iam/policy/index.hpp"

namespace sluice::iam::policy {

CompiledSet::~CompiledSet() = default;

std::shared_ptr<const CompiledSet> CompiledSet::compile(std::vector<Grant> grants) {
  return compile(std::move(grants), Indexing::Auto);
}

std::shared_ptr<const CompiledSet> CompiledSet::compile(std::vector<Grant> grants, Indexing indexing) {
  std::shared_ptr<CompiledSet> set(new CompiledSet());
  set->grants_ = std::move(grants);
  set->index_ = std::make_unique<Index>();
  Index& ix = *set->index_;
  ix.mode = indexing;

  size_t n = 0;
  for (const Grant& g : set->grants_)
    if (g.doc) n += g.doc->statements.size();
  ix.stmts.reserve(n);
  for (size_t gi = 0; gi < set->grants_.size(); ++gi) {
    const Grant& g = set->grants_[gi];
    if (!g.doc) continue;  // a grant whose document failed to load grants nothing
    for (size_t si = 0; si < g.doc->statements.size(); ++si)
      ix.stmts.push_back(StmtRef{&g.doc->statements[si], &g.scope, static_cast<uint32_t>(gi), static_cast<uint32_t>(si)});
  }

  if (indexing == Indexing::Eager || (indexing == Indexing::Auto && n > kLazyIndexMaxStatements)) {
    build_index(ix);
    ix.ready.store(true, std::memory_order_release);
  }
  return set;
}

bool CompiledSet::indexed() const { return index_->ready.load(std::memory_order_acquire); }

size_t CompiledSet::statements() const { return index_->stmts.size(); }

}  // namespace sluice::iam::policy
