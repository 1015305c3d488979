-- One queue record: a call handed to the operators is the operator queue's row (telephony_queue_calls), whose
-- context holds everything the bot learned (caller, topic, intents with confidences, entities, transcript,
-- answers). The escalations table duplicated that package and nothing read it; every call written to it was
-- put in the operator queue with the same package, so dropping it loses nothing an operator could see.
DROP TABLE IF EXISTS escalations;
