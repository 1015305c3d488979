-- The relay of inquiries: when the line passed a question to the agency, the agency's answer, and when the
-- answer reached the caller (callback placed or handed to an operator).
ALTER TABLE inquiries ADD COLUMN dispatched_at timestamptz;
ALTER TABLE inquiries ADD COLUMN dispatch_error text;
ALTER TABLE inquiries ADD COLUMN answer_text text;
ALTER TABLE inquiries ADD COLUMN answered_at timestamptz;
ALTER TABLE inquiries ADD COLUMN answered_by text;
ALTER TABLE inquiries ADD COLUMN relayed_at timestamptz;
