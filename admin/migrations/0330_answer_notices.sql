-- A staff member's mail address: approvers are told of drafts waiting for them, authors of drafts returned.
ALTER TABLE admin_users ADD COLUMN email text;

-- The answer studio's notices (admin/answer-notices.ts): one row per event of a script version (its
-- submission, its return), claimed before the mail is sent and marked sent after, so that a notice goes out
-- once and a failed send is tried again on the next sweep. The event itself is kb's (answer_versions'
-- submitted_at / returned_at): nothing is lost when a mail fails. No foreign key: kb's table, another part.
CREATE TABLE admin_answer_notices (
  intent_id  text NOT NULL,
  version    integer NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('submitted', 'returned')),
  event_at   timestamptz NOT NULL,
  state      text NOT NULL CHECK (state IN ('sending', 'sent')),
  recipients text[] NOT NULL DEFAULT '{}',
  claimed_at timestamptz NOT NULL,
  sent_at    timestamptz,
  PRIMARY KEY (intent_id, version, kind, event_at)
);
