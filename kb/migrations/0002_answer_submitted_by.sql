-- Who sent a draft for approval: neither its author nor its submitter may approve it.
ALTER TABLE answer_versions ADD COLUMN submitted_by text;
