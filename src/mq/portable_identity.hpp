#pragma once
// A connection's identity in a form another node of a cluster can decide on
// (docs/cluster.md, "Wills"): its fixed facts and its credential's portable
// form (mode name and what names the credential: a key id, a token's hash, a
// custom identity's name and version; never a secret). A survivor sending the
// will of a node that died rebuilds the identity's rights from it
// (MqAccessControl::will_guard_for) and decides the will as the dead node would
// have at that moment.
#include <string>
#include <string_view>

#include "common/fields.hpp"
#include "mq/auth_mode.hpp"

namespace sluice::mq {

// "<n>:<bytes>" fields, one after another (common/fields.hpp).
using common::put_field;
using common::take_field;

std::string encode_identity(const ClientFacts& f, const PortableCredential& c);
// False for anything encode_identity did not make.
bool decode_identity(std::string_view s, ClientFacts& f, PortableCredential& c);

}  // namespace sluice::mq
