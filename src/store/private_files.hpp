#pragma once
// The data directory holds secrets (sealed keys, password hashes, the master
// key) and, in broker.db and its WAL, message payloads in plain text: only
// Sluice's own user may read it. The directory is 0700 and every file in it
// 0600, whatever the umask, including files an older version created 0644.
#include <string>

namespace sluice::store {

struct DataDirResult {
  std::string error;      // set: the directory does not exist and could not be made
  bool created = false;
  int old_mode = -1;      // >= 0: it existed with this mode, now new_mode (group and other bits cleared)
  int new_mode = -1;
  std::string warning;    // it could not be tightened (not ours, a read-only file system); still usable
};
// Makes `dir` (and missing parents) with mode 0700, or tightens an existing one.
DataDirResult prepare_data_dir(const std::string& dir);

// Tightens an existing regular file to 0600 if group or others have any access.
// Returns "<path> (was <mode>)" if it did, else "".
std::string make_file_private(const std::string& path);

// Before SQLite opens `db_path`: creates it empty with mode 0600 if missing
// (SQLite gives its -wal and -shm files the database file's mode), and
// tightens the file, its -wal, -shm and -journal to 0600 where they exist with
// more. Returns what it tightened ("" if nothing), for the log.
std::string make_database_private(const std::string& db_path);

}  // namespace sluice::store
