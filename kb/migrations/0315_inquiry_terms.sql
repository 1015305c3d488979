-- The terms of the agreements for inquiries (kb/inquiry-terms.ts): the region's default next to kb_meta and
-- each agency's overrides (NULL: the agency follows the region). The defaults are the Irkutsk rule: 15 minutes
-- to send; one working day; after 16:00 by 16:00 of the next working day; at most five working days.
-- inquiry_cutoff is "HH:MM" or 'none'.
ALTER TABLE kb_meta ADD COLUMN IF NOT EXISTS inquiry_dispatch_minutes integer NOT NULL DEFAULT 15
  CHECK (inquiry_dispatch_minutes > 0);
ALTER TABLE kb_meta ADD COLUMN IF NOT EXISTS inquiry_answer_unit text NOT NULL DEFAULT 'working_days'
  CHECK (inquiry_answer_unit IN ('hours', 'calendar_days', 'working_days'));
ALTER TABLE kb_meta ADD COLUMN IF NOT EXISTS inquiry_answer_amount integer NOT NULL DEFAULT 1
  CHECK (inquiry_answer_amount > 0);
ALTER TABLE kb_meta ADD COLUMN IF NOT EXISTS inquiry_cutoff text NOT NULL DEFAULT '16:00';
ALTER TABLE kb_meta ADD COLUMN IF NOT EXISTS inquiry_max_amount integer NOT NULL DEFAULT 5
  CHECK (inquiry_max_amount > 0);

ALTER TABLE agencies ADD COLUMN IF NOT EXISTS inquiry_dispatch_minutes integer CHECK (inquiry_dispatch_minutes > 0);
ALTER TABLE agencies ADD COLUMN IF NOT EXISTS inquiry_answer_unit text
  CHECK (inquiry_answer_unit IN ('hours', 'calendar_days', 'working_days'));
ALTER TABLE agencies ADD COLUMN IF NOT EXISTS inquiry_answer_amount integer CHECK (inquiry_answer_amount > 0);
ALTER TABLE agencies ADD COLUMN IF NOT EXISTS inquiry_cutoff text;
ALTER TABLE agencies ADD COLUMN IF NOT EXISTS inquiry_max_amount integer CHECK (inquiry_max_amount > 0);
