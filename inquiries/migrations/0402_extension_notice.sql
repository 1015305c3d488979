-- The citizen is told of an extension by a short notice callback (inquiries/relay.ts): due once the
-- extension is recorded, within calling hours, at most three attempts; told_at when the notice was said in
-- full. A notice never reached is said with the answer.
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS extension_notice_due_at timestamptz;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS extension_notice_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE inquiries ADD COLUMN IF NOT EXISTS extension_noticed_at timestamptz;
CREATE INDEX IF NOT EXISTS inquiries_extension_notice ON inquiries (extension_notice_due_at)
  WHERE extension_notice_due_at IS NOT NULL AND extension_noticed_at IS NULL;
