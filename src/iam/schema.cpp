// The identity tables (RAM, ResourceManager, STS, service activation), their
// versions applied by the store's migration runner and recorded in SQLite's
// PRAGMA user_version (they predate the runner), on PostgreSQL in
// meta.iam_schema.
#include "iam/schema.hpp"

namespace sluice::iam {

namespace {

// Names: account ids are 16-digit strings; RAM entity names are unique per
// account; "scope_rg" is '' for an Account-scope grant, else a resource group id.
// The meta table, created in step 1 before there was a runner, is the store's
// now (store::ensure_meta, the same definition), made before any step runs.
const store::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE accounts (
  id            TEXT PRIMARY KEY,
  login_name    TEXT NOT NULL UNIQUE,
  alias         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);
CREATE TABLE service_activations (
  account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  service      TEXT NOT NULL,
  activated_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, service)
);
CREATE TABLE users (
  account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  user_id      TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  comments     TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE login_profiles (
  account_id              TEXT NOT NULL,
  user_name               TEXT NOT NULL,
  password_hash           TEXT NOT NULL,
  password_reset_required INTEGER NOT NULL,
  mfa_bind_required       INTEGER NOT NULL,
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL,
  PRIMARY KEY (account_id, user_name),
  FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, name) ON DELETE CASCADE ON UPDATE CASCADE
);
-- user_name NULL: the key belongs to the root account.
CREATE TABLE access_keys (
  id          TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_name   TEXT,
  secret_enc  BLOB NOT NULL,
  status      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, name) ON UPDATE CASCADE
);
CREATE INDEX access_keys_owner ON access_keys(account_id, user_name);
CREATE TABLE groups (
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  group_id   TEXT NOT NULL UNIQUE,
  comments   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE group_members (
  account_id TEXT NOT NULL,
  group_name TEXT NOT NULL,
  user_name  TEXT NOT NULL,
  joined_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, group_name, user_name),
  FOREIGN KEY (account_id, group_name) REFERENCES groups(account_id, name) ON UPDATE CASCADE,
  FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, name) ON UPDATE CASCADE
);
CREATE INDEX group_members_user ON group_members(account_id, user_name);
CREATE TABLE roles (
  account_id           TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  role_id              TEXT NOT NULL UNIQUE,
  description          TEXT NOT NULL,
  trust_policy         TEXT NOT NULL,
  max_session_duration INTEGER NOT NULL,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE sts_sessions (
  access_key_id   TEXT PRIMARY KEY,
  account_id      TEXT NOT NULL,
  role_name       TEXT NOT NULL,
  session_name    TEXT NOT NULL,
  secret_enc      BLOB NOT NULL,
  token_enc       BLOB NOT NULL,
  session_policy  TEXT,
  caller_arn      TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL
);
CREATE INDEX sts_sessions_expiry ON sts_sessions(expires_at);
CREATE TABLE policies (
  account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  description     TEXT NOT NULL,
  default_version TEXT NOT NULL,
  next_version    INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE policy_versions (
  account_id  TEXT NOT NULL,
  policy_name TEXT NOT NULL,
  version_id  TEXT NOT NULL,
  document    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, policy_name, version_id),
  FOREIGN KEY (account_id, policy_name) REFERENCES policies(account_id, name) ON DELETE CASCADE
);
CREATE TABLE resource_groups (
  id           TEXT PRIMARY KEY,
  account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  display_name TEXT NOT NULL,
  is_default   INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  UNIQUE (account_id, name)
);
-- Every resource of every service lives in exactly one resource group.
CREATE TABLE resources (
  account_id        TEXT NOT NULL,
  resource_type     TEXT NOT NULL,
  resource_id       TEXT NOT NULL,
  service           TEXT NOT NULL,
  region            TEXT NOT NULL,
  resource_group_id TEXT NOT NULL REFERENCES resource_groups(id),
  created_at        INTEGER NOT NULL,
  PRIMARY KEY (account_id, resource_type, resource_id)
);
CREATE INDEX resources_group ON resources(resource_group_id);
CREATE TABLE attachments (
  account_id     TEXT NOT NULL,
  principal_type TEXT NOT NULL,
  principal_name TEXT NOT NULL,
  policy_type    TEXT NOT NULL,
  policy_name    TEXT NOT NULL,
  scope_rg       TEXT NOT NULL,
  attached_at    INTEGER NOT NULL,
  PRIMARY KEY (account_id, principal_type, principal_name, policy_type, policy_name, scope_rg)
);
CREATE INDEX attachments_policy ON attachments(account_id, policy_type, policy_name);
)sql"},
    // 2: meta.iam_version counts commits to identity tables, so a process can
    // tell "another connection changed IAM state" from "it wrote something else".
    {2, R"sql(
INSERT INTO meta(key, value) VALUES ('iam_version', 0);
CREATE TRIGGER iam_version_accounts_insert AFTER INSERT ON accounts BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_accounts_update AFTER UPDATE ON accounts BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_accounts_delete AFTER DELETE ON accounts BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_service_activations_insert AFTER INSERT ON service_activations BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_service_activations_update AFTER UPDATE ON service_activations BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_service_activations_delete AFTER DELETE ON service_activations BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_users_insert AFTER INSERT ON users BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_users_update AFTER UPDATE ON users BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_users_delete AFTER DELETE ON users BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_login_profiles_insert AFTER INSERT ON login_profiles BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_login_profiles_update AFTER UPDATE ON login_profiles BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_login_profiles_delete AFTER DELETE ON login_profiles BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_access_keys_insert AFTER INSERT ON access_keys BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_access_keys_update AFTER UPDATE ON access_keys BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_access_keys_delete AFTER DELETE ON access_keys BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_groups_insert AFTER INSERT ON groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_groups_update AFTER UPDATE ON groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_groups_delete AFTER DELETE ON groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_group_members_insert AFTER INSERT ON group_members BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_group_members_update AFTER UPDATE ON group_members BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_group_members_delete AFTER DELETE ON group_members BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_roles_insert AFTER INSERT ON roles BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_roles_update AFTER UPDATE ON roles BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_roles_delete AFTER DELETE ON roles BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_sts_sessions_insert AFTER INSERT ON sts_sessions BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_sts_sessions_update AFTER UPDATE ON sts_sessions BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_sts_sessions_delete AFTER DELETE ON sts_sessions BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_policies_insert AFTER INSERT ON policies BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_policies_update AFTER UPDATE ON policies BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_policies_delete AFTER DELETE ON policies BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_policy_versions_insert AFTER INSERT ON policy_versions BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_policy_versions_update AFTER UPDATE ON policy_versions BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_policy_versions_delete AFTER DELETE ON policy_versions BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_resource_groups_insert AFTER INSERT ON resource_groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_resource_groups_update AFTER UPDATE ON resource_groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_resource_groups_delete AFTER DELETE ON resource_groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_resources_insert AFTER INSERT ON resources BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_resources_update AFTER UPDATE ON resources BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_resources_delete AFTER DELETE ON resources BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_attachments_insert AFTER INSERT ON attachments BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_attachments_update AFTER UPDATE ON attachments BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_attachments_delete AFTER DELETE ON attachments BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
)sql"},
    // 3: two nodes on one PostgreSQL cannot rely on check-then-insert alone:
    // role names are unique per account whatever their case (CreateRole
    // checks lower(name) = lower(?); the index holds it for writers on
    // different nodes too).
    {3, R"sql(
CREATE UNIQUE INDEX roles_name_ci ON roles(account_id, lower(name));
)sql"},
    // 4 (issue 21): the account's password policy and security preference
    // (account_settings, JSON per name), virtual MFA devices (seed sealed under
    // the master key; last_step: the newest TOTP step accepted, so a code is
    // used once), when each access key was last used (written in batches; no
    // trigger: it is not identity state, caches need not move), a user's email
    // and mobile phone, a login profile's password age and history (the
    // policy's MaxPasswordAge and PasswordReusePrevention), an STS session's
    // SourceIdentity.
    {4, R"sql(
CREATE TABLE account_settings (
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE mfa_devices (
  serial_number TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  seed_enc      BLOB NOT NULL,
  user_name     TEXT,
  activated_at  INTEGER NOT NULL,
  last_step     INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  UNIQUE (account_id, name),
  FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, name) ON UPDATE CASCADE
);
CREATE UNIQUE INDEX mfa_devices_user ON mfa_devices(account_id, user_name);
CREATE TABLE access_key_usage (
  access_key_id TEXT PRIMARY KEY,
  last_used_at  INTEGER NOT NULL
);
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mobile_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE login_profiles ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_profiles ADD COLUMN password_history TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sts_sessions ADD COLUMN source_identity TEXT;
CREATE TRIGGER iam_version_account_settings_insert AFTER INSERT ON account_settings BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_account_settings_update AFTER UPDATE ON account_settings BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_account_settings_delete AFTER DELETE ON account_settings BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_mfa_devices_insert AFTER INSERT ON mfa_devices BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_mfa_devices_update AFTER UPDATE ON mfa_devices BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
CREATE TRIGGER iam_version_mfa_devices_delete AFTER DELETE ON mfa_devices BEGIN UPDATE meta SET value = value + 1 WHERE key = 'iam_version'; END;
)sql"},
};

// The same versions on PostgreSQL: BIGINT for SQLite's 64-bit INTEGER, BYTEA
// for BLOB; no triggers (step 2: SQLite's change feed counts commits with
// them; PostgreSQL's notifies inside the writing transaction instead); an
// identity column gives attachments their insertion order (SQLite's rowid).
const store::Migration kPgMigrations[] = {
    {1, R"sql(
CREATE TABLE accounts (
  id            TEXT PRIMARY KEY,
  login_name    TEXT NOT NULL UNIQUE,
  alias         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at    BIGINT NOT NULL
);
CREATE TABLE service_activations (
  account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  service      TEXT NOT NULL,
  activated_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, service)
);
CREATE TABLE users (
  account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  user_id      TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  comments     TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE login_profiles (
  account_id              TEXT NOT NULL,
  user_name               TEXT NOT NULL,
  password_hash           TEXT NOT NULL,
  password_reset_required BIGINT NOT NULL,
  mfa_bind_required       BIGINT NOT NULL,
  created_at              BIGINT NOT NULL,
  updated_at              BIGINT NOT NULL,
  PRIMARY KEY (account_id, user_name),
  FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, name) ON DELETE CASCADE ON UPDATE CASCADE
);
-- user_name NULL: the key belongs to the root account.
CREATE TABLE access_keys (
  id          TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_name   TEXT,
  secret_enc  BYTEA NOT NULL,
  status      TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, name) ON UPDATE CASCADE
);
CREATE INDEX access_keys_owner ON access_keys(account_id, user_name);
CREATE TABLE groups (
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  group_id   TEXT NOT NULL UNIQUE,
  comments   TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE group_members (
  account_id TEXT NOT NULL,
  group_name TEXT NOT NULL,
  user_name  TEXT NOT NULL,
  joined_at  BIGINT NOT NULL,
  PRIMARY KEY (account_id, group_name, user_name),
  FOREIGN KEY (account_id, group_name) REFERENCES groups(account_id, name) ON UPDATE CASCADE,
  FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, name) ON UPDATE CASCADE
);
CREATE INDEX group_members_user ON group_members(account_id, user_name);
CREATE TABLE roles (
  account_id           TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  role_id              TEXT NOT NULL UNIQUE,
  description          TEXT NOT NULL,
  trust_policy         TEXT NOT NULL,
  max_session_duration BIGINT NOT NULL,
  created_at           BIGINT NOT NULL,
  updated_at           BIGINT NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE sts_sessions (
  access_key_id   TEXT PRIMARY KEY,
  account_id      TEXT NOT NULL,
  role_name       TEXT NOT NULL,
  session_name    TEXT NOT NULL,
  secret_enc      BYTEA NOT NULL,
  token_enc       BYTEA NOT NULL,
  session_policy  TEXT,
  caller_arn      TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  expires_at      BIGINT NOT NULL
);
CREATE INDEX sts_sessions_expiry ON sts_sessions(expires_at);
CREATE TABLE policies (
  account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  description     TEXT NOT NULL,
  default_version TEXT NOT NULL,
  next_version    BIGINT NOT NULL,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE policy_versions (
  account_id  TEXT NOT NULL,
  policy_name TEXT NOT NULL,
  version_id  TEXT NOT NULL,
  document    TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (account_id, policy_name, version_id),
  FOREIGN KEY (account_id, policy_name) REFERENCES policies(account_id, name) ON DELETE CASCADE
);
CREATE TABLE resource_groups (
  id           TEXT PRIMARY KEY,
  account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  display_name TEXT NOT NULL,
  is_default   BIGINT NOT NULL,
  created_at   BIGINT NOT NULL,
  UNIQUE (account_id, name)
);
-- Every resource of every service lives in exactly one resource group.
CREATE TABLE resources (
  account_id        TEXT NOT NULL,
  resource_type     TEXT NOT NULL,
  resource_id       TEXT NOT NULL,
  service           TEXT NOT NULL,
  region            TEXT NOT NULL,
  resource_group_id TEXT NOT NULL REFERENCES resource_groups(id),
  created_at        BIGINT NOT NULL,
  PRIMARY KEY (account_id, resource_type, resource_id)
);
CREATE INDEX resources_group ON resources(resource_group_id);
CREATE TABLE attachments (
  account_id     TEXT NOT NULL,
  principal_type TEXT NOT NULL,
  principal_name TEXT NOT NULL,
  policy_type    TEXT NOT NULL,
  policy_name    TEXT NOT NULL,
  scope_rg       TEXT NOT NULL,
  attached_at    BIGINT NOT NULL,
  PRIMARY KEY (account_id, principal_type, principal_name, policy_type, policy_name, scope_rg)
);
CREATE INDEX attachments_policy ON attachments(account_id, policy_type, policy_name);
)sql"},
    {2, "SELECT 1; -- SQLite's iam_version triggers: NOTIFY does their work here"},
    {3, R"sql(
CREATE UNIQUE INDEX roles_name_ci ON roles(account_id, lower(name));
ALTER TABLE attachments ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
)sql"},
    // 4 (issue 21): as SQLite's step 4.
    {4, R"sql(
CREATE TABLE account_settings (
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE TABLE mfa_devices (
  serial_number TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  seed_enc      BYTEA NOT NULL,
  user_name     TEXT,
  activated_at  BIGINT NOT NULL,
  last_step     BIGINT NOT NULL,
  created_at    BIGINT NOT NULL,
  UNIQUE (account_id, name),
  FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, name) ON UPDATE CASCADE
);
CREATE UNIQUE INDEX mfa_devices_user ON mfa_devices(account_id, user_name);
CREATE TABLE access_key_usage (
  access_key_id TEXT PRIMARY KEY,
  last_used_at  BIGINT NOT NULL
);
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mobile_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE login_profiles ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE login_profiles ADD COLUMN password_history TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sts_sessions ADD COLUMN source_identity TEXT;
)sql"},
};

}  // namespace

const store::Schema& schema() {
  static const store::Schema s{"iam", "iam_schema", kMigrations, /*sqlite_user_version=*/true, kPgMigrations};
  return s;
}

}  // namespace sluice::iam
