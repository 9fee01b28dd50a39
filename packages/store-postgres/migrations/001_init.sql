-- flowsafe schema, version 1. Sealed values are bytea; nothing here is ever plaintext.
CREATE TABLE users (
  id text PRIMARY KEY,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workspaces (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE members (
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id);

CREATE TABLE projects (
  id text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name text NOT NULL,
  environments jsonb NOT NULL,
  policy jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_workspace_idx ON projects (workspace_id);

CREATE TABLE secrets (
  id text PRIMARY KEY,
  workspace_id text NOT NULL,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name text NOT NULL,
  type text NOT NULL,
  visibility text NOT NULL,
  allowed_hosts jsonb,
  description text,
  kek_id text NOT NULL,
  dek_iv bytea NOT NULL,
  dek_ct bytea NOT NULL,
  dek_tag bytea NOT NULL,
  missing jsonb,
  source jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (project_id, name)
);
CREATE INDEX secrets_workspace_idx ON secrets (workspace_id);

-- one row per sealed field of one environment's value ('default' or an environment name)
CREATE TABLE secret_values (
  secret_id text NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
  environment text NOT NULL,
  field text NOT NULL,
  iv bytea NOT NULL,
  ct bytea NOT NULL,
  tag bytea NOT NULL,
  PRIMARY KEY (secret_id, environment, field)
);

CREATE TABLE settings (
  id text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name text NOT NULL,
  "values" jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE flows (
  id text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name text NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX flows_project_idx ON flows (project_id, created_at);

CREATE TABLE audit_events (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  at timestamptz NOT NULL,
  workspace_id text NOT NULL,
  project_id text,
  actor text NOT NULL,
  action text NOT NULL,
  secret text,
  environment text,
  flow_id text,
  run_id text,
  details jsonb
);
CREATE INDEX audit_workspace_idx ON audit_events (workspace_id, seq DESC);

CREATE TABLE runs (
  seq bigserial,
  id text PRIMARY KEY,
  project_id text NOT NULL,
  flow_id text NOT NULL,
  environment text NOT NULL,
  status text NOT NULL,
  queued_at timestamptz NOT NULL,
  started_at timestamptz,
  duration_ms integer,
  steps jsonb NOT NULL,
  output jsonb,
  error jsonb,
  actor text
);
CREATE INDEX runs_project_idx ON runs (project_id, seq DESC);
CREATE INDEX runs_project_flow_idx ON runs (project_id, flow_id, seq DESC);
CREATE INDEX runs_running_idx ON runs (status) WHERE status IN ('queued', 'running');

CREATE TABLE secret_stores (
  id text PRIMARY KEY,
  workspace_id text NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  config jsonb NOT NULL,
  kek_id text NOT NULL,
  dek_iv bytea NOT NULL,
  dek_ct bytea NOT NULL,
  dek_tag bytea NOT NULL,
  cache_ttl_s integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (workspace_id, name)
);

CREATE TABLE secret_store_credentials (
  store_id text NOT NULL REFERENCES secret_stores(id) ON DELETE CASCADE,
  field text NOT NULL,
  iv bytea NOT NULL,
  ct bytea NOT NULL,
  tag bytea NOT NULL,
  PRIMARY KEY (store_id, field)
);

CREATE TABLE meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
