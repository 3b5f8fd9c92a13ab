#pragma once
// Connection scenarios:
//  conns    — open K idle connections (CONNECT, CONNACK) and hold them, to
//             measure the broker's memory per connection.
//  connrate — connect/CONNACK/DISCONNECT cycles as fast as possible, to
//             measure connection setup cost (and, with credentials, auth cost).
#include "options.hpp"

namespace sbench {

int run_conns(const Options& opt);
int run_connrate(const Options& opt);

}  // namespace sbench
