-- Which running instance serves a call, so that a restart closes only its own calls: several instances may
-- share one PostgreSQL, and a restart of one must not mark the others' live calls interrupted.
-- NULL: recorded without an owner (before this migration, or by a one-off simulation); any start closes those.
ALTER TABLE calls ADD COLUMN instance_id text;
DROP INDEX IF EXISTS calls_active;
CREATE INDEX calls_active ON calls (instance_id) WHERE status = 'active';
