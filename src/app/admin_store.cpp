// `sluice admin store copy --from DATA_DIR --to CONNINFO [--force]`: a single
// node's SQLite control store moved into PostgreSQL, so that a user who outgrows
// one machine keeps everything (accounts, RAM entities, keys and their secrets,
// passwords, instances, tokens, credentials, the audit log).
//
// Both stores are migrated to this binary's schema first (each owner's runner),
// then every table of the SQLite store is copied row by row, in its insertion
// order (rowid: attachments.seq and audit ids keep the order), parents before
// children (foreign keys), in ONE transaction on PostgreSQL: a copy that fails
// leaves the target as it was, and running it again is safe. Secrets are copied
// sealed as they are: the target is opened with the same master key
// (SLUICE_MASTER_KEY or DATA_DIR/master.key), and refuses to open under
// another one. A target that holds anything is refused unless --force, which
// replaces its contents (the same copy again gives the same store).
#include "app/admin_store.hpp"

#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "api/audit.hpp"
#include "iam/iam_service.hpp"
#include "mq/mq_service.hpp"
#include "store/store.hpp"

namespace sluice::app {

namespace {

struct Column {
  std::string name, type;  // SQLite's declared type, upper case
};

// Tables of the SQLite store, parents (referenced by foreign keys) first.
std::vector<std::string> tables_in_order(store::Db& db) {
  std::vector<std::string> names;
  {
    auto q = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
    while (q.step()) names.push_back(q.text(0));
  }
  std::map<std::string, std::set<std::string>> parents;
  for (const auto& t : names) {
    auto q = db.query("SELECT \"table\" FROM pragma_foreign_key_list(?)", t);
    while (q.step())
      if (q.text(0) != t) parents[t].insert(q.text(0));
  }
  std::vector<std::string> out;
  std::set<std::string> done, visiting;
  std::function<void(const std::string&)> visit = [&](const std::string& t) {
    if (done.count(t) || visiting.count(t)) return;
    visiting.insert(t);
    for (const auto& p : parents[t]) visit(p);
    done.insert(t);
    out.push_back(t);
  };
  for (const auto& t : names) visit(t);
  return out;
}

std::vector<Column> columns_of(store::Db& db, const std::string& table) {
  std::vector<Column> cols;
  auto q = db.query("SELECT name, upper(type) FROM pragma_table_info(?) ORDER BY cid", table);
  while (q.step()) cols.push_back({q.text(0), q.text(1)});
  return cols;
}

std::string quoted(const std::string& ident) { return "\"" + ident + "\""; }

int64_t count(store::Db& db, const std::string& table) {
  auto q = db.query("SELECT COUNT(*) FROM " + quoted(table));
  return q.step() ? q.int64(0) : 0;
}

// meta rows that belong to each store itself: the key check (sealed per store
// under the same key), the schema versions (each store's own runner) and
// SQLite's change counter.
bool own_meta(const std::string& key) {
  return key == "key_check" || key == "iam_version" || key.ends_with("_schema");
}

struct Migrated {
  std::unique_ptr<iam::IamService> iam;
  std::unique_ptr<mq::MqService> mq;
  std::unique_ptr<api::AuditLog> audit;
};

// Each owner migrates its tables when constructed.
Migrated migrate(const std::shared_ptr<store::Store>& s) {
  Migrated m;
  m.iam = std::make_unique<iam::IamService>(s);
  m.mq = std::make_unique<mq::MqService>(s, *m.iam);
  m.audit = std::make_unique<api::AuditLog>(s);
  return m;
}

int copy_store(const std::string& from, const std::string& to, bool force) {
  if (!std::filesystem::exists(from + "/sluice.db")) {
    std::cerr << "error: " << from << "/sluice.db does not exist: --from names the data dir of a single-node store\n";
    return 1;
  }
  auto src_open = store::Store::open(from);
  if (!src_open.store) {
    std::cerr << "error: " << src_open.error << "\n";
    return 1;
  }
  std::shared_ptr<store::Store> src(std::move(src_open.store));
  // The same master key as the source (SLUICE_MASTER_KEY, or the source's
  // master.key): the sealed secrets are copied as they are.
  auto dst_open = store::Store::open_postgres(to, from);
  if (!dst_open.store) {
    std::cerr << "error: " << dst_open.error << "\n";
    return 1;
  }
  std::shared_ptr<store::Store> dst(std::move(dst_open.store));
  try {
    Migrated m1 = migrate(src), m2 = migrate(dst);
    m1.audit.reset();  // flushed and stopped before reading the log
    m2.audit.reset();
    std::lock_guard l1(src->mutex()), l2(dst->mutex());
    store::Db& s = src->db();
    store::Db& d = dst->db();
    const std::vector<std::string> tables = tables_in_order(s);
    std::vector<std::string> held;
    for (const auto& t : tables)
      if (t != "meta" && count(d, t) > 0) held.push_back(t);
    if (!held.empty() && !force) {
      std::cerr << "error: the target " << d.path() << " is not empty (" << held.front()
                << (held.size() > 1 ? " and " + std::to_string(held.size() - 1) + " more tables" : std::string())
                << " hold rows). Copy into an empty database, or add --force to replace its contents.\n";
      return 1;
    }
    store::Transaction tx(d);
    for (auto it = tables.rbegin(); it != tables.rend(); ++it)  // children first
      if (*it != "meta") d.run("DELETE FROM " + quoted(*it));
    std::map<std::string, int64_t> copied;
    for (const auto& t : tables) {
      const auto cols = columns_of(s, t);
      std::set<std::string> target_cols, identity;
      {
        auto q = d.query(
            "SELECT column_name, is_identity FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ?",
            t);
        while (q.step()) {
          target_cols.insert(q.text(0));
          if (q.text(1) == "YES") identity.insert(q.text(0));
        }
      }
      if (target_cols.empty()) throw std::runtime_error("the target has no table " + t);
      std::string names, marks, select;
      bool overriding = false;
      for (const auto& c : cols) {
        if (!target_cols.count(c.name)) throw std::runtime_error("the target's " + t + " has no column " + c.name);
        names += (names.empty() ? "" : ", ") + quoted(c.name);
        select += (select.empty() ? "" : ", ") + quoted(c.name);
        marks += marks.empty() ? "?" : ", ?";
        overriding |= identity.count(c.name) > 0;
      }
      std::string insert = "INSERT INTO " + quoted(t) + "(" + names + ")" +
                           (overriding ? " OVERRIDING SYSTEM VALUE" : "") + " VALUES (" + marks + ")";
      if (t == "meta") insert += " ON CONFLICT(key) DO UPDATE SET value = excluded.value";
      auto rows = s.query("SELECT " + select + " FROM " + quoted(t) + " ORDER BY rowid");
      int64_t n = 0;
      while (rows.step()) {
        if (t == "meta" && own_meta(rows.text(0))) continue;
        auto ins = d.prepare(insert);
        for (int i = 0; i < static_cast<int>(cols.size()); ++i) {
          const std::string& ty = cols[i].type;
          if (rows.is_null(i))
            ins.bind(i + 1, nullptr);
          else if (ty.find("INT") != std::string::npos)
            ins.bind(i + 1, rows.int64(i));
          else if (ty.find("BLOB") != std::string::npos && t != "meta")
            ins.bind(i + 1, store::Blob{rows.blob(i)});
          else
            ins.bind(i + 1, rows.text(i));  // meta.value is TEXT on PostgreSQL
        }
        ins.run();
        ++n;
      }
      // Identity columns go on after the copied ids.
      for (const auto& c : identity)
        d.query("SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(" + quoted(c) + ") FROM " +
                    quoted(t) + "), 0) + 1, false)",
                t, c)
            .run();
      copied[t] = n;
    }
    tx.commit();
    int64_t total = 0;
    for (const auto& [t, n] : copied) total += n;
    std::cout << "copied " << total << " rows in " << copied.size() << " tables from " << s.path() << " to "
              << d.path() << "\n";
    for (const auto& [t, n] : copied)
      if (n) std::cout << "  " << t << ": " << n << "\n";
    std::cout << "start every node with --postgres and the same master key"
              << (src->key_source() == store::KeySource::Environment ? " (SLUICE_MASTER_KEY)"
                                                                      : " (" + from + "/master.key)")
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: copy failed, the target was left as it was: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

CLI::App* add_store_commands(CLI::App& app, int& rc) {
  auto* st = app.add_subcommand("store", "The control store (moving a single node's store into PostgreSQL)");
  st->require_subcommand(1);
  auto from = std::make_shared<std::string>(), to = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto* cp = st->add_subcommand(
      "copy", "Copy a single-node store (SQLite in DATA_DIR) into PostgreSQL, secrets included (same master key)");
  cp->add_option("--from", *from, "Data directory of the single-node store")->required();
  cp->add_option("--to", *to, "PostgreSQL conninfo or postgresql:// URI")->required();
  cp->add_flag("--force", *force, "Replace whatever the target holds");
  cp->callback([&rc, from, to, force] { rc = copy_store(*from, *to, *force); });
  return st;
}

}  // namespace sluice::app
