-- The agency (a KB participant id) a staff account belongs to: an approver approves only the answer scripts
-- of that agency's topics. No foreign key: a KB import replaces participants, and an account must survive it.
ALTER TABLE admin_users ADD COLUMN agency text;
