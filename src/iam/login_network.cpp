#include "iam/login_network.hpp"

#include <vector>

#include "iam/policy/values.hpp"

namespace sluice::iam {

namespace {
std::vector<std::string_view> entries(std::string_view masks) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < masks.size()) {
    while (i < masks.size() && (masks[i] == ';' || masks[i] == ',' || masks[i] == ' ')) ++i;
    size_t j = i;
    while (j < masks.size() && masks[j] != ';' && masks[j] != ',' && masks[j] != ' ') ++j;
    if (j > i) out.push_back(masks.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

std::optional<std::string> login_network_masks_problem(std::string_view masks) {
  const auto list = entries(masks);
  if (list.size() > kMaxLoginNetworkMasks)
    return "LoginNetworkMasks holds at most " + std::to_string(kMaxLoginNetworkMasks) + " addresses or CIDR blocks, got " +
           std::to_string(list.size()) + ".";
  for (auto e : list) {
    policy::IpNet net;
    if (!policy::parse_ip_net(e, net))
      return "LoginNetworkMasks: \"" + std::string(e.substr(0, 64)) +
             "\" is not an IP address or CIDR block (e.g. 192.168.0.0/16; entries separated by ';').";
  }
  return std::nullopt;
}

bool login_network_allows(std::string_view masks, std::string_view source) {
  const auto list = entries(masks);
  if (list.empty()) return true;
  policy::IpNet addr;
  if (!policy::parse_ip_addr(source, addr)) return false;
  for (auto e : list) {
    policy::IpNet net;
    if (policy::parse_ip_net(e, net) && policy::ip_in_net(addr, net)) return true;
  }
  return false;
}

}  // namespace sluice::iam
