-- Who told the caller the agency's answer: a staff login when an operator called the citizen by hand; empty
-- when the line's own callback relayed it (the call record has that conversation).
ALTER TABLE inquiries ADD COLUMN relayed_by text;
