#include "store/store.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "store/migrate.hpp"
#include "store/private_files.hpp"
#include "store/sqlite_db.hpp"

namespace sluice::store {

namespace {
constexpr std::string_view kCheckPlain = "sluice master key check v1";
constexpr std::string_view kCheckAad = "key_check";
}  // namespace

Store::OpenResult Store::open(const std::string& data_dir, const StoreOptions& opts) {
  OpenResult r;
  // Secrets and hashes live here: 0700 (`sluice serve` logs what it changed).
  if (auto d = prepare_data_dir(data_dir); !d.error.empty()) {
    r.error = d.error;
    return r;
  }
  std::unique_ptr<Store> s(new Store());
  s->data_dir_ = data_dir;
  try {
    s->db_ = SqliteDb::open(data_dir + "/sluice.db");
    ensure_meta(*s->db_);

    std::optional<std::string> check;
    {
      auto q = s->db_->query("SELECT value FROM meta WHERE key = 'key_check'");
      if (q.step()) check = q.blob(0);
    }
    std::optional<std::string> env = opts.master_key_b64;
    if (!env && opts.read_env) {
      if (const char* e = std::getenv("SLUICE_MASTER_KEY"); e && *e) env = std::string(e);
    }
    auto mk = load_master_key(data_dir, env, /*may_create=*/!check.has_value());
    if (!mk.key) {
      r.error = mk.error;
      return r;
    }
    s->key_source_ = mk.key->source;
    s->box_ = std::make_unique<SecretBox>(mk.key->key);
    if (check) {
      auto plain = s->box_->open(*check, kCheckAad);
      if (!plain || *plain != kCheckPlain) {
        r.error = std::string("wrong master key: the key from ") +
                  (mk.key->source == KeySource::Environment ? "SLUICE_MASTER_KEY" : data_dir + "/master.key") +
                  " is not the one that encrypted the secrets in " + data_dir +
                  "/sluice.db. Restore the original key; secrets cannot be recovered without it.";
        return r;
      }
    } else {
      s->db_->run("INSERT INTO meta(key, value) VALUES ('key_check', ?)",
                  Blob{s->box_->seal(kCheckPlain, kCheckAad)});
    }
  } catch (const DbError& e) {
    r.error = e.what();
    return r;
  }
  r.store = std::move(s);
  return r;
}

}  // namespace sluice::store
