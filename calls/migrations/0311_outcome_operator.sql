-- A web chat an operator took on the desk and talked through ends with the outcome `operator` (the bot
-- handed it on and a person answered); `escalated` stays for a call that reached the queue and no further in
-- the dialog's record (a phone call bridged by telephony, a chat left while waiting is `abandoned`).
ALTER TABLE calls DROP CONSTRAINT IF EXISTS calls_outcome_check;
ALTER TABLE calls ADD CONSTRAINT calls_outcome_check
  CHECK (outcome IN ('answered', 'escalated', 'operator', 'forwarded', 'inquiry', 'emergency', 'abandoned', 'hangup'));
