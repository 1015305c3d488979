import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { callFiguresByDay } from './figures.js';
import { createCall, dialogEnded, endCall, getCall, listCalls, markInterruptedCalls } from './records.js';
import { cdrAddLeg, cdrEnd, cdrStart } from './sip.js';

/**
 * One call record per call: telephony's SIP facts and the voice bot's dialog land on the same `calls` row,
 * whichever writes first, neither overwriting the other's columns, and only the instance holding the SIP
 * leg closes the call on its restart.
 */
for (const backend of backends) {
  describe(`one call record for telephony and the voice bot (${backend})`, () => {
    let db: TestDb;
    before(async () => {
      db = await openTestDb(backend);
    });
    after(async () => {
      await db?.drop();
    });

    const at = (hhmmss: string) => new Date(`2026-03-02T${hhmmss}+03:00`);
    const inbound = (callId: string, startedAt: Date, instanceId = 'telephony-1') =>
      cdrStart(db.sql, {
        callId,
        channelUuid: `uuid-${callId}`,
        direction: 'inbound',
        from: '+79001234567',
        to: '122',
        startedAt,
        answeredAt: startedAt,
        instanceId,
      });
    const dialog = (id: string, startedAt: Date, instanceId = 'voicebot-2') =>
      createCall(db.sql, {
        id,
        channel: 'media',
        callerNumber: '+79001234567',
        dialledNumber: '122',
        startedAt,
        flowId: 'default',
        instanceId,
      });

    it('telephony at INVITE, then the bot: one row with the SIP facts and the dialog outcome', async () => {
      await inbound('c-both', at('10:00:00'));
      await dialog('c-both', at('10:00:01'));
      await cdrAddLeg(
        db.sql,
        'c-both',
        { kind: 'agency', target: '+74951230000', status: 'answered' },
        at('10:01:00'),
      );
      assert.equal(await dialogEnded(db.sql, 'c-both'), false);
      await endCall(db.sql, 'c-both', 'forwarded', at('10:01:00'));
      assert.equal(await dialogEnded(db.sql, 'c-both'), true);
      await cdrEnd(db.sql, 'c-both', {
        endedAt: at('10:03:00'),
        outcome: 'forwarded',
        endReason: 'caller_hangup',
      });

      const call = await getCall(db.sql, 'c-both');
      assert.ok(call);
      assert.equal(call.channel, 'sip');
      assert.equal(call.callerNumber, '+79001234567');
      assert.deepEqual(call.startedAt, at('10:00:00'), 'the call started at INVITE');
      assert.deepEqual(call.endedAt, at('10:01:00'), 'the dialog ended when the agency took the call');
      assert.equal(call.outcome, 'forwarded');
      assert.equal(call.flowId, 'default');
      assert.equal(call.status, 'completed');
      assert.equal(call.instanceId, 'telephony-1');
      assert.deepEqual(call.sip, {
        channelUuid: 'uuid-c-both',
        direction: 'inbound',
        answeredAt: at('10:00:00'),
        endedAt: at('10:03:00'),
        durationMs: 180_000,
        outcome: 'forwarded',
        endReason: 'caller_hangup',
        legs: [
          { kind: 'agency', target: '+74951230000', status: 'answered', at: at('10:01:00').toISOString() },
        ],
      });
      assert.equal((await listCalls(db.sql, 100)).filter((c) => c.id === 'c-both').length, 1);
    });

    it('the bot first (telephony late): the row is merged the same way; a call without SIP has no SIP facts', async () => {
      await dialog('c-late', at('11:00:01'));
      await inbound('c-late', at('11:00:00'));
      const call = await getCall(db.sql, 'c-late');
      assert.equal(call?.channel, 'sip');
      assert.equal(call?.flowId, 'default');
      assert.deepEqual(call?.startedAt, at('11:00:00'));
      assert.equal(call?.instanceId, 'telephony-1', 'the SIP leg holds the call');
      assert.equal(call?.sip?.channelUuid, 'uuid-c-late');

      await createCall(db.sql, {
        id: 'c-chat',
        channel: 'text',
        callerNumber: null,
        dialledNumber: '122',
        startedAt: at('11:00:00'),
        flowId: 'default',
        instanceId: 'chat-1',
      });
      assert.equal((await getCall(db.sql, 'c-chat'))?.sip, null);
    });

    it('refuses a second dialog on a call, and a second INVITE record changes nothing', async () => {
      await inbound('c-twice', at('12:00:00'));
      await dialog('c-twice', at('12:00:01'));
      await assert.rejects(dialog('c-twice', at('12:00:02')), { code: 'CONFLICT' });
      await dialog('c-bare', at('12:00:00'));
      await assert.rejects(dialog('c-bare', at('12:00:02')), { code: 'CONFLICT' });
      await inbound('c-twice', at('12:05:00'), 'telephony-9');
      const call = await getCall(db.sql, 'c-twice');
      assert.equal(call?.instanceId, 'telephony-1');
      assert.deepEqual(call?.startedAt, at('12:00:00'));
    });

    it('a caller who hangs up mid-dialog: telephony closes the record, the bot still writes its outcome', async () => {
      await inbound('c-hangup', at('13:00:00'));
      await dialog('c-hangup', at('13:00:01'));
      await cdrEnd(db.sql, 'c-hangup', {
        endedAt: at('13:00:20'),
        outcome: 'caller_hangup',
        endReason: 'caller_hangup',
      });
      assert.equal((await getCall(db.sql, 'c-hangup'))?.status, 'completed');
      await endCall(db.sql, 'c-hangup', 'hangup', at('13:00:21'));
      const call = await getCall(db.sql, 'c-hangup');
      assert.equal(call?.outcome, 'hangup');
      assert.equal(call?.sip?.durationMs, 20_000);
      // The first end of each side wins.
      await endCall(db.sql, 'c-hangup', 'answered', at('13:05:00'));
      await cdrEnd(db.sql, 'c-hangup', { endedAt: at('13:05:00'), outcome: 'bot', endReason: 'bot_hangup' });
      const again = await getCall(db.sql, 'c-hangup');
      assert.equal(again?.outcome, 'hangup');
      assert.equal(again?.sip?.endReason, 'caller_hangup');
    });

    it('a restart closes only its own calls: the instance holding the SIP leg, not the bot’s', async () => {
      await inbound('c-live', at('14:00:00'), 'telephony-live');
      await dialog('c-live', at('14:00:01'), 'voicebot-live');
      assert.equal(await markInterruptedCalls(db.sql, 'voicebot-live'), 0);
      assert.equal((await getCall(db.sql, 'c-live'))?.status, 'active', 'telephony took the caller on');
      assert.equal(await markInterruptedCalls(db.sql, 'telephony-live'), 1);
      const call = await getCall(db.sql, 'c-live');
      assert.equal(call?.status, 'interrupted');
      await endCall(db.sql, 'c-live', 'answered', at('14:10:00'));
      assert.equal((await getCall(db.sql, 'c-live'))?.outcome, null, 'an interrupted call stays interrupted');
    });

    it('an outbound dial nobody answered is on record but not counted as a call of the day', async () => {
      const day = '2026-03-03';
      await cdrStart(db.sql, {
        callId: 'c-busy',
        channelUuid: 'uuid-busy',
        direction: 'outbound',
        from: '122',
        to: '+79001110000',
        startedAt: new Date(`${day}T09:00:00+03:00`),
        answeredAt: null,
        instanceId: 'telephony-1',
      });
      await cdrEnd(db.sql, 'c-busy', {
        endedAt: new Date(`${day}T09:00:12+03:00`),
        outcome: 'not_reached',
        endReason: 'busy',
      });
      await cdrStart(db.sql, {
        callId: 'c-reached',
        channelUuid: 'uuid-reached',
        direction: 'outbound',
        from: '122',
        to: '+79001112233',
        startedAt: new Date(`${day}T09:30:00+03:00`),
        answeredAt: new Date(`${day}T09:30:05+03:00`),
        instanceId: 'telephony-1',
      });
      const busy = await getCall(db.sql, 'c-busy');
      assert.deepEqual(
        [busy?.status, busy?.outcome, busy?.dialledNumber, busy?.sip?.outcome, busy?.sip?.durationMs],
        ['completed', null, '+79001110000', 'not_reached', 12_000],
      );
      const [figures] = await callFiguresByDay(db.sql, 'Europe/Moscow', day, day);
      assert.equal(figures?.calls, 1);
    });
  });
}
