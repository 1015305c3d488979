-- Staff accounts of the admin UI and API, their sessions, and the audit log of what they did.
CREATE TABLE admin_users (
  login         text PRIMARY KEY,
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'supervisor', 'editor', 'approver', 'operator')),
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled      boolean NOT NULL DEFAULT false
);

CREATE TABLE admin_sessions (
  token_hash  text PRIMARY KEY,
  login       text NOT NULL REFERENCES admin_users(login) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);

CREATE TABLE audit_log (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  login    text NOT NULL,
  action   text NOT NULL,
  object   text,
  details  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);
