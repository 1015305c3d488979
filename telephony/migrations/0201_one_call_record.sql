-- The call-detail records now live on the calls part's `calls` row (its migration 0103 copied them over, and
-- telephony writes them through calls/sip.ts): telephony keeps no call table of its own.
DROP TABLE IF EXISTS telephony_calls;
