-- Supervisors' reports: background runs of long periods, the mailed reports' settings and what was mailed.

-- A report over a long period, computed in the background by the node that started it: its progress and,
-- once done, its result (figures only, no personal data), kept for download.
CREATE TABLE admin_report_runs (
  id text PRIMARY KEY,
  requested_by text NOT NULL,
  period_from date NOT NULL,
  period_to date NOT NULL,
  breakdown text NOT NULL,
  state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
  progress real NOT NULL DEFAULT 0,
  result json,
  error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  finished_at timestamptz
);
CREATE INDEX admin_report_runs_created ON admin_report_runs (created_at);

-- The mailed reports (daily, weekly): staff-edited, one row per kind.
CREATE TABLE admin_report_schedules (
  kind text PRIMARY KEY CHECK (kind IN ('daily', 'weekly')),
  enabled boolean NOT NULL DEFAULT false,
  recipients text[] NOT NULL DEFAULT '{}',
  format text NOT NULL DEFAULT 'xlsx' CHECK (format IN ('csv', 'xlsx')),
  breakdown text NOT NULL DEFAULT 'day',
  -- The region's local hour from which the previous day's (Monday: week's) report is sent.
  send_hour integer NOT NULL DEFAULT 7 CHECK (send_hour BETWEEN 0 AND 23),
  updated_by text,
  updated_at timestamptz
);
INSERT INTO admin_report_schedules (kind) VALUES ('daily'), ('weekly');

-- One row per period mailed: the claim comes before the send, so two nodes never mail the same period twice.
CREATE TABLE admin_report_mailings (
  kind text NOT NULL,
  period_from date NOT NULL,
  period_to date NOT NULL,
  state text NOT NULL CHECK (state IN ('sending', 'sent')),
  recipients text[] NOT NULL,
  claimed_at timestamptz NOT NULL,
  sent_at timestamptz,
  PRIMARY KEY (kind, period_from)
);
