// The mq_* tables: this layer's migration steps, versioned by the meta key
// "mq_schema" and applied by the store's runner (store/migrate.hpp).
#include "mq/schema.hpp"

namespace sluice::mq {

namespace {
const store::Migration kSteps[] = {
    {1, R"sql(
CREATE TABLE IF NOT EXISTS mq_instances (
  id          TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL,
  name        TEXT NOT NULL,
  type        TEXT NOT NULL,
  status      TEXT NOT NULL,
  remark      TEXT NOT NULL,
  settings    TEXT NOT NULL,   -- JSON of InstanceSettings
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mq_instances_account ON mq_instances(account_id);
CREATE TABLE IF NOT EXISTS mq_topics (
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  topic       TEXT NOT NULL,
  remark      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (instance_id, topic)
);
CREATE TABLE IF NOT EXISTS mq_groups (
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  group_id    TEXT NOT NULL,
  remark      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (instance_id, group_id)
);
CREATE TABLE IF NOT EXISTS mq_tags (
  account_id    TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id   TEXT NOT NULL,
  tag_key       TEXT NOT NULL,
  tag_value     TEXT NOT NULL,
  PRIMARY KEY (account_id, resource_type, resource_id, tag_key)
);
-- Tokens are stored as the SHA-256 of the token: the value is shown once.
CREATE TABLE IF NOT EXISTS mq_tokens (
  token_hash  TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  account_id  TEXT NOT NULL,
  resources   TEXT NOT NULL,   -- JSON array of topic filters
  actions     TEXT NOT NULL,   -- R | W | R,W
  expire_ms   INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  revoked     INTEGER NOT NULL DEFAULT 0
);
-- Device secrets are sealed with the store's secret box (aad = key id).
CREATE TABLE IF NOT EXISTS mq_device_credentials (
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  client_id   TEXT NOT NULL,
  key_id      TEXT NOT NULL UNIQUE,
  secret      BLOB NOT NULL,
  created_ms  INTEGER NOT NULL,
  updated_ms  INTEGER NOT NULL,
  PRIMARY KEY (instance_id, client_id)
);
CREATE TABLE IF NOT EXISTS mq_custom_identities (
  instance_id   TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  identity_type TEXT NOT NULL,   -- USER | CLIENT
  identity      TEXT NOT NULL,   -- username (USER) or client id (CLIENT)
  username      TEXT NOT NULL,
  client_id     TEXT NOT NULL,
  secret        BLOB NOT NULL,   -- sealed, aad = instance/type/identity
  sign_mode     TEXT NOT NULL,   -- ORIGIN | SIGNED
  created_ms    INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL,
  PRIMARY KEY (instance_id, identity_type, identity)
);
CREATE TABLE IF NOT EXISTS mq_custom_permissions (
  instance_id   TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  identity_type TEXT NOT NULL,
  identity      TEXT NOT NULL,
  topic         TEXT NOT NULL,
  permit_action TEXT NOT NULL,   -- PUB | SUB | PUB_SUB
  effect        TEXT NOT NULL,   -- ALLOW | DENY
  created_ms    INTEGER NOT NULL,
  PRIMARY KEY (instance_id, identity_type, identity, topic)
);
CREATE TABLE IF NOT EXISTS mq_connect_black (
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  client_id   TEXT NOT NULL,
  created_ms  INTEGER NOT NULL,
  PRIMARY KEY (instance_id, client_id)
);
)sql"},
    // Issue 18: device certificates. Public certificates only (PEM); the
    // device certificates go with their CA (the cloud deletes them with it).
    {2, R"sql(
CREATE TABLE IF NOT EXISTS mq_cert_register_codes (
  instance_id TEXT PRIMARY KEY REFERENCES mq_instances(id) ON DELETE CASCADE,
  code        TEXT NOT NULL,
  created_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mq_ca_certificates (
  instance_id       TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  sn                TEXT NOT NULL,
  name              TEXT NOT NULL,
  content           TEXT NOT NULL,   -- PEM
  verification      TEXT NOT NULL,   -- PEM of the proof of possession
  registration_code TEXT NOT NULL,
  active            INTEGER NOT NULL,
  valid_begin_ms    INTEGER NOT NULL,
  valid_end_ms      INTEGER NOT NULL,
  created_ms        INTEGER NOT NULL,
  PRIMARY KEY (instance_id, sn)
);
CREATE TABLE IF NOT EXISTS mq_device_certificates (
  instance_id       TEXT NOT NULL,
  ca_sn             TEXT NOT NULL,
  device_sn         TEXT NOT NULL,
  name              TEXT NOT NULL,
  content           TEXT NOT NULL,   -- PEM
  active            INTEGER NOT NULL,
  valid_begin_ms    INTEGER NOT NULL,
  valid_end_ms      INTEGER NOT NULL,
  created_ms        INTEGER NOT NULL,
  last_connected_ms INTEGER NOT NULL,
  last_client_id    TEXT NOT NULL,
  PRIMARY KEY (instance_id, ca_sn, device_sn),
  FOREIGN KEY (instance_id, ca_sn) REFERENCES mq_ca_certificates(instance_id, sn) ON DELETE CASCADE
);
)sql"},
    // Issue 19: data rules (outflow, inflow, client status) of an instance.
    {3, R"sql(
CREATE TABLE IF NOT EXISTS mq_rules (
  instance_id   TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  rule_type     TEXT NOT NULL,   -- outflow | inflow | status
  source_topic  TEXT NOT NULL,
  target_type   TEXT NOT NULL,   -- webhook | nats | postgres | mqtt
  target_config TEXT NOT NULL,   -- JSON object
  created_ms    INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL,
  PRIMARY KEY (instance_id, name)
);
)sql"},
};

// The same version on PostgreSQL: BIGINT for SQLite's 64-bit INTEGER, BYTEA for BLOB.
const store::Migration kPgSteps[] = {
    {1, R"sql(
CREATE TABLE IF NOT EXISTS mq_instances (
  id          TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL,
  name        TEXT NOT NULL,
  type        TEXT NOT NULL,
  status      TEXT NOT NULL,
  remark      TEXT NOT NULL,
  settings    TEXT NOT NULL,   -- JSON of InstanceSettings
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS mq_instances_account ON mq_instances(account_id);
CREATE TABLE IF NOT EXISTS mq_topics (
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  topic       TEXT NOT NULL,
  remark      TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (instance_id, topic)
);
CREATE TABLE IF NOT EXISTS mq_groups (
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  group_id    TEXT NOT NULL,
  remark      TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (instance_id, group_id)
);
CREATE TABLE IF NOT EXISTS mq_tags (
  account_id    TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id   TEXT NOT NULL,
  tag_key       TEXT NOT NULL,
  tag_value     TEXT NOT NULL,
  PRIMARY KEY (account_id, resource_type, resource_id, tag_key)
);
-- Tokens are stored as the SHA-256 of the token: the value is shown once.
CREATE TABLE IF NOT EXISTS mq_tokens (
  token_hash  TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  account_id  TEXT NOT NULL,
  resources   TEXT NOT NULL,   -- JSON array of topic filters
  actions     TEXT NOT NULL,   -- R | W | R,W
  expire_ms   BIGINT NOT NULL,
  created_at  BIGINT NOT NULL,
  revoked     BIGINT NOT NULL DEFAULT 0
);
-- Device secrets are sealed with the store's secret box (aad = key id).
CREATE TABLE IF NOT EXISTS mq_device_credentials (
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  client_id   TEXT NOT NULL,
  key_id      TEXT NOT NULL UNIQUE,
  secret      BYTEA NOT NULL,
  created_ms  BIGINT NOT NULL,
  updated_ms  BIGINT NOT NULL,
  PRIMARY KEY (instance_id, client_id)
);
CREATE TABLE IF NOT EXISTS mq_custom_identities (
  instance_id   TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  identity_type TEXT NOT NULL,   -- USER | CLIENT
  identity      TEXT NOT NULL,   -- username (USER) or client id (CLIENT)
  username      TEXT NOT NULL,
  client_id     TEXT NOT NULL,
  secret        BYTEA NOT NULL,   -- sealed, aad = instance/type/identity
  sign_mode     TEXT NOT NULL,   -- ORIGIN | SIGNED
  created_ms    BIGINT NOT NULL,
  updated_ms    BIGINT NOT NULL,
  PRIMARY KEY (instance_id, identity_type, identity)
);
CREATE TABLE IF NOT EXISTS mq_custom_permissions (
  instance_id   TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  identity_type TEXT NOT NULL,
  identity      TEXT NOT NULL,
  topic         TEXT NOT NULL,
  permit_action TEXT NOT NULL,   -- PUB | SUB | PUB_SUB
  effect        TEXT NOT NULL,   -- ALLOW | DENY
  created_ms    BIGINT NOT NULL,
  PRIMARY KEY (instance_id, identity_type, identity, topic)
);
CREATE TABLE IF NOT EXISTS mq_connect_black (
  instance_id TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  client_id   TEXT NOT NULL,
  created_ms  BIGINT NOT NULL,
  PRIMARY KEY (instance_id, client_id)
);
)sql"},
    // Issue 18: device certificates. Public certificates only (PEM); the
    // device certificates go with their CA (the cloud deletes them with it).
    {2, R"sql(
CREATE TABLE IF NOT EXISTS mq_cert_register_codes (
  instance_id TEXT PRIMARY KEY REFERENCES mq_instances(id) ON DELETE CASCADE,
  code        TEXT NOT NULL,
  created_ms  BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS mq_ca_certificates (
  instance_id       TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  sn                TEXT NOT NULL,
  name              TEXT NOT NULL,
  content           TEXT NOT NULL,   -- PEM
  verification      TEXT NOT NULL,   -- PEM of the proof of possession
  registration_code TEXT NOT NULL,
  active            BIGINT NOT NULL,
  valid_begin_ms    BIGINT NOT NULL,
  valid_end_ms      BIGINT NOT NULL,
  created_ms        BIGINT NOT NULL,
  PRIMARY KEY (instance_id, sn)
);
CREATE TABLE IF NOT EXISTS mq_device_certificates (
  instance_id       TEXT NOT NULL,
  ca_sn             TEXT NOT NULL,
  device_sn         TEXT NOT NULL,
  name              TEXT NOT NULL,
  content           TEXT NOT NULL,   -- PEM
  active            BIGINT NOT NULL,
  valid_begin_ms    BIGINT NOT NULL,
  valid_end_ms      BIGINT NOT NULL,
  created_ms        BIGINT NOT NULL,
  last_connected_ms BIGINT NOT NULL,
  last_client_id    TEXT NOT NULL,
  PRIMARY KEY (instance_id, ca_sn, device_sn),
  FOREIGN KEY (instance_id, ca_sn) REFERENCES mq_ca_certificates(instance_id, sn) ON DELETE CASCADE
);
)sql"},
    // Issue 19: data rules (outflow, inflow, client status) of an instance.
    {3, R"sql(
CREATE TABLE IF NOT EXISTS mq_rules (
  instance_id   TEXT NOT NULL REFERENCES mq_instances(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  rule_type     TEXT NOT NULL,   -- outflow | inflow | status
  source_topic  TEXT NOT NULL,
  target_type   TEXT NOT NULL,   -- webhook | nats | postgres | mqtt
  target_config TEXT NOT NULL,   -- JSON object
  created_ms    BIGINT NOT NULL,
  updated_ms    BIGINT NOT NULL,
  PRIMARY KEY (instance_id, name)
);
)sql"},
};
}  // namespace

const store::Schema& schema() {
  static const store::Schema s{"mq", "mq_schema", kSteps, false, kPgSteps};
  return s;
}

}  // namespace sluice::mq
