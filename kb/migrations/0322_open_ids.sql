-- Topics and intents are the editors' data: any id of the form [a-z0-9_.]+ (issue [4/7]), no fixed list.
-- 0001 limited topics to the eight sample topics; intents were limited in code only.
ALTER TABLE topics DROP CONSTRAINT IF EXISTS topics_id_check;
ALTER TABLE topics ADD CONSTRAINT topics_id_format CHECK (id ~ '^[a-z0-9_.]+$');
ALTER TABLE intents ADD CONSTRAINT intents_id_format CHECK (id ~ '^[a-z0-9_.]+$');
