#pragma once
// <data-dir>/initial-credentials.json: the root account's first console password and
// first access key, written once at first start (mode 0600) so the operator can sign in.
// Plain text at rest is tolerable only while they are live and unreplaced: scrub() takes
// the password out once it no longer signs in (the forced change at first sign-in), and
// the key secret once that key is deleted.
#include <chrono>
#include <string>

namespace sluice::iam {
class IamService;
}

namespace sluice::app {

class InitialCredentials {
 public:
  InitialCredentials(std::string data_dir, iam::IamService& iam);
  static std::string path_in(const std::string& data_dir);

  // Cheap when nothing changed (a small file read and a query or two): the server
  // calls it every few seconds. Once nothing secret is left in the file it is a no-op.
  void scrub();

 private:
  std::string path_;
  iam::IamService& iam_;
  bool done_ = false;              // nothing secret left (or no file)
  bool password_still_ok_ = false;  // the change flag was cleared, yet the file's password still signs in
  std::chrono::steady_clock::time_point password_checked_{};
};

}  // namespace sluice::app
