#pragma once
// Instance editions (issue 21): basic, professional, platinum and serverless,
// each with its default limits (docs/spec.md "Editions" gives the figures and
// where they come from). An instance's settings are its edition's defaults
// with the settings someone set explicitly (its overrides) on top, so that a
// change of edition moves the defaults and keeps the overrides.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mq/model.hpp"

namespace sluice::mq {

// basic, professional, platinum, serverless.
bool known_edition(std::string_view edition);

// `base` (the server's instance defaults: strictness, traces) with the
// edition's limits on top.
InstanceSettings edition_defaults(std::string_view edition, const InstanceSettings& base);

// Names of the settings whose values differ between `a` and `b` (API names, in
// the settings table's order).
std::vector<std::string> differing_settings(const InstanceSettings& a, const InstanceSettings& b);

// `to` with the settings named in `names` copied from `from`.
InstanceSettings with_settings(InstanceSettings to, const InstanceSettings& from, const std::vector<std::string>& names);

// The sorted union of two name lists.
std::vector<std::string> merge_names(std::vector<std::string> a, const std::vector<std::string>& b);

}  // namespace sluice::mq
