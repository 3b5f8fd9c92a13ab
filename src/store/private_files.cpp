#include "store/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace sluice::store {

namespace {
std::string octal(int mode) {
  char b[8];
  std::snprintf(b, sizeof b, "%04o", mode & 07777);
  return b;
}
}  // namespace

DataDirResult prepare_data_dir(const std::string& dir) {
  DataDirResult r;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      r.error = "cannot create data directory " + dir + ": " + ec.message();
      return r;
    }
    r.created = true;
    if (::chmod(dir.c_str(), 0700) != 0)
      r.warning = "cannot set mode 0700 on data directory " + dir + ": " + std::strerror(errno);
    return r;
  }
  if (!S_ISDIR(st.st_mode)) {
    r.error = "data directory " + dir + " exists and is not a directory";
    return r;
  }
  if ((st.st_mode & 077) == 0) return r;
  // Only the directory itself is changed: its parent may be read-only or not ours.
  if (::chmod(dir.c_str(), st.st_mode & 07700) != 0) {
    r.warning = "data directory " + dir + " has mode " + octal(int(st.st_mode)) +
                " (others may read the secrets and messages in it) and cannot be tightened: " + std::strerror(errno);
    return r;
  }
  r.old_mode = int(st.st_mode & 07777);
  r.new_mode = int(st.st_mode & 07700);
  return r;
}

std::string make_database_private(const std::string& db_path) {
  if (db_path.empty() || db_path[0] == ':' || db_path.rfind("file:", 0) == 0) return "";  // in memory, URIs
  // O_EXCL: a file that appears meanwhile is left to the loop below.
  const int fd = ::open(db_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::fchmod(fd, 0600);  // regardless of umask
    ::close(fd);
  }
  std::string tightened;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::string t = make_file_private(db_path + suffix);
    if (!t.empty()) tightened += (tightened.empty() ? "" : ", ") + t;
  }
  return tightened;
}

std::string make_file_private(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0) return "";
  if (::chmod(path.c_str(), 0600) != 0) return "";  // read-only: whoever opens it reports what matters
  return path + " (was " + octal(int(st.st_mode)) + ")";
}

}  // namespace sluice::store
