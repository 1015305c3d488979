-- Mailing an inquiry to its agency (admin/jobs/inquiries.ts): how many tries failed and why the last one did,
-- so that a supervisor sees an inquiry the mail relay keeps refusing before the 15-minute norm is missed.
-- dispatch_error stays the verdict that no retry helps (no e-mail, no SMTP_URL, a permanent 5xx rejection).
ALTER TABLE inquiries ADD COLUMN dispatch_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE inquiries ADD COLUMN dispatch_last_error text;
