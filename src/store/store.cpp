#include "store/store.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "store/migrate.hpp"
#include "store/private_files.hpp"
#include "common/crypto.hpp"
#include "store/pg_db.hpp"
#include "store/sqlite_db.hpp"

namespace sluice::store {

namespace {
constexpr std::string_view kCheckPlain = "sluice master key check v1";
constexpr std::string_view kCheckAad = "key_check";

// The sealed check value: a blob on SQLite; base64 text on PostgreSQL, whose
// meta.value is TEXT (store/migrate.hpp).
std::optional<std::string> read_check(Db& db) {
  auto q = db.query("SELECT value FROM meta WHERE key = 'key_check'");
  if (!q.step()) return std::nullopt;
  if (db.dialect() == Dialect::Postgres) return common::base64_decode(q.text(0)).value_or(std::string());
  return q.blob(0);
}
void write_check(Db& db, const std::string& sealed) {
  if (db.dialect() == Dialect::Postgres)
    db.run("INSERT INTO meta(key, value) VALUES ('key_check', ?) ON CONFLICT(key) DO NOTHING",
           common::base64_encode(sealed));
  else
    db.run("INSERT INTO meta(key, value) VALUES ('key_check', ?)", Blob{sealed});
}
}  // namespace

std::string Store::check_master_key(Store& s, const std::string& data_dir, const StoreOptions& opts) {
  Db& db = *s.db_;
  SchemaLock lock(db);  // two nodes starting on a new store: one key wins, the other is told
  ensure_meta(db);
  std::optional<std::string> check = read_check(db);
  std::optional<std::string> env = opts.master_key_b64;
  if (!env && opts.read_env) {
    if (const char* e = std::getenv("SLUICE_MASTER_KEY"); e && *e) env = std::string(e);
  }
  if (!env && !check && db.dialect() == Dialect::Postgres) {
    // A new shared store: its key is made in this node's data dir (0700).
    if (auto d = prepare_data_dir(data_dir); !d.error.empty()) return d.error;
  }
  auto mk = load_master_key(data_dir, env, /*may_create=*/!check.has_value());
  if (!mk.key) return mk.error;
  s.key_source_ = mk.key->source;
  s.box_ = std::make_unique<SecretBox>(mk.key->key);
  if (!check) {
    write_check(db, s.box_->seal(kCheckPlain, kCheckAad));
    check = read_check(db);
  }
  auto plain = check ? s.box_->open(*check, kCheckAad) : std::nullopt;
  if (!plain || *plain != kCheckPlain) {
    return std::string("wrong master key: the key from ") +
           (mk.key->source == KeySource::Environment ? "SLUICE_MASTER_KEY" : data_dir + "/master.key") +
           " is not the one that encrypted the secrets in " + db.path() +
           ". Restore the original key (every node of a store needs the same one); secrets cannot be recovered "
           "without it.";
  }
  return {};
}

Store::OpenResult Store::open(const std::string& data_dir, const StoreOptions& opts) {
  if (!opts.postgres.empty()) return open_postgres(opts.postgres, data_dir, opts);
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
    if (std::string e = check_master_key(*s, data_dir, opts); !e.empty()) {
      r.error = e;
      return r;
    }
  } catch (const DbError& e) {
    r.error = e.what();
    return r;
  }
  r.store = std::move(s);
  return r;
}

Store::OpenResult Store::open_postgres(const std::string& conninfo, const std::string& data_dir,
                                       const StoreOptions& opts) {
  OpenResult r;
  std::unique_ptr<Store> s(new Store());
  s->data_dir_ = data_dir;
  s->conninfo_ = conninfo;
  try {
    auto db = PgDb::open(conninfo);
    db->set_change_backstop_ms(opts.change_backstop_ms);
    s->db_ = std::move(db);
    if (std::string e = check_master_key(*s, data_dir, opts); !e.empty()) {
      r.error = e;
      return r;
    }
  } catch (const DbError& e) {
    r.error = e.what();
    return r;
  }
  r.store = std::move(s);
  return r;
}

std::unique_ptr<Db> Store::connect() const {
  if (!conninfo_.empty()) return PgDb::open(conninfo_);
  return SqliteDb::open(data_dir_ + "/sluice.db");
}

}  // namespace sluice::store
