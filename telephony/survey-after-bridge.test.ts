/**
 * The post-call survey after an operator's conversation or a forward to an agency (the flow's survey step has
 * afterOperator, as the shipped flow does): through the FreeSWITCH stand-in, the caller's channel is kept when
 * the other side hangs up first (park_after_bridge), the caller hears the survey, presses a key and the score
 * is stored against the call and the operator. When the caller hangs up first nothing is played or stored.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { getSurvey } from '../calls/quality.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import type { CallMetadata } from '../media/call-leg.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { CallControl } from './call-control.js';
import { FreeswitchControl } from './fsmrf.js';
import { OperatorQueue } from './queue.js';
import { BotSocket, eventually } from './testing/bot-socket.js';
import { FakeFreeswitch, silentPromptFiles } from './testing/fake-freeswitch.js';

const IVANOVA = 'sip:ivanova@10.0.0.21';
const IVANOVA_DIAL = 'sofia/external/ivanova@10.0.0.21';
const AGENCY = '+74112400000';
const AGENCY_DIAL = `sofia/gateway/carrier/${AGENCY}`;

for (const backend of backends) {
  describe(`survey after an operator or a forward (${backend})`, () => {
    let db: TestDb;
    let fs: FakeFreeswitch;
    let bot: BotSocket;
    let botUrl: string;
    let control: FreeswitchControl;
    let dir: string;
    let t: number;
    const now = () => new Date(t);
    let queue: OperatorQueue;
    let calls: CallControl;
    let prompts: ReturnType<typeof silentPromptFiles>;
    const ups: string[] = [];

    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      dir = mkdtempSync(join(tmpdir(), 'otklik-survey-'));
      fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs'), playbackMs: 50 });
      await fs.start();
      bot = new BotSocket();
      botUrl = await bot.start();
      control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
      prompts = silentPromptFiles(dir);
    });
    after(async () => {
      control.close();
      await bot.stop();
      await fs.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      t = Date.parse('2026-03-02T10:00:00Z');
      await db.sql.exec('DELETE FROM telephony_acd_offers; DELETE FROM telephony_queue_calls;');
      queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, wrapUpMs: 0, now });
      await queue.upsertOperator({ id: 'ivanova', name: 'Иванова', sipUri: IVANOVA, skills: [] });
      await queue.setMember('default', 'ivanova');
      await queue.setPresence('ivanova', 'available');
      fs.dialOutcomes.set(IVANOVA_DIAL, 'answer');
      fs.dialOutcomes.set(AGENCY_DIAL, 'answer');
    });
    afterEach(() => {
      calls.release();
      for (const uuid of ups.splice(0)) fs.hangup(uuid);
    });

    function makeCalls(mediaSocketUrl: string | undefined) {
      return new CallControl({
        sql: db.sql,
        control,
        queue,
        log: silentLogger,
        recordingsDir: join(dir, 'recordings'),
        audioDir: join(dir, 'audio'),
        mediaSocketUrl,
        mediaSocketSecret: undefined,
        instanceId: 'telephony-test',
        trunk: 'sofia/gateway/carrier',
        forwardTimeoutMs: 20_000,
        prompts,
        kb: createKnowledgeBase(db.sql),
        now,
      });
    }

    async function incoming() {
      const uuid = fs.addChannel();
      ups.push(uuid);
      const meta: CallMetadata = {
        callId: randomUUID(),
        from: '+79145550011',
        to: '122',
        startedAt: now(),
        channel: 'sip',
      };
      await calls.handleInbound(uuid, meta);
      return { uuid, callId: meta.callId };
    }

    const playedTo = (uuid: string) => fs.played.filter((p) => p.uuid === uuid).map((p) => p.file);

    /** A caller the queue bridged to Иванова's phone (no bot on this line: the queue takes the call). */
    async function withOperator() {
      calls = makeCalls(undefined);
      const c = await incoming();
      await eventually(() => calls.calls.get(c.callId)?.queued, 'queued');
      await calls.tick();
      const call = await eventually(
        () => (calls.calls.get(c.callId)?.phase === 'operator' ? calls.calls.get(c.callId) : undefined),
        'bridged to the operator',
      );
      const operatorLeg = call.leg.bridgedUuid!;
      assert.ok(operatorLeg);
      assert.equal(
        fs.channels.get(c.uuid)!.vars.park_after_bridge,
        'true',
        'the caller is kept after the bridge',
      );
      return { ...c, operatorLeg };
    }

    it('the operator hangs up first: the caller hears the survey, presses 4, the score is stored against the call and the operator', async () => {
      const { uuid, callId, operatorLeg } = await withOperator();
      t += 95_000;
      fs.hangup(operatorLeg);
      await eventually(() => playedTo(uuid).includes(prompts.survey_after_operator), 'the survey question');
      assert.ok(fs.channels.get(uuid)!.up, 'the caller is still on the line');
      fs.dtmf(uuid, '4');
      await eventually(() => playedTo(uuid).includes(prompts.survey_thanks), 'thanks');
      await eventually(() => !fs.channels.get(uuid)!.up, 'the call ends after the thanks');
      const survey = await getSurvey(db.sql, callId);
      assert.deepEqual(
        {
          score: survey?.score,
          after: survey?.after,
          operatorId: survey?.operatorId,
          at: survey?.at.getTime(),
        },
        { score: 4, after: 'operator', operatorId: 'ivanova', at: t },
      );
      // The operator's conversation was closed at the bridge's end: they are free for the next caller.
      await eventually(async () => (await queue.operator('ivanova'))?.state === 'available', 'operator free');
    });

    it('the operator hangs up from the desk: the survey follows, their conversation stays open for the close', async () => {
      const { uuid, callId } = await withOperator();
      await calls.hangup(callId);
      await eventually(() => playedTo(uuid).includes(prompts.survey_after_operator), 'the survey question');
      fs.dtmf(uuid, '2');
      await eventually(() => !fs.channels.get(uuid)!.up, 'the call ends after the thanks');
      assert.ok(playedTo(uuid).includes(prompts.survey_thanks));
      const survey = await getSurvey(db.sql, callId);
      assert.equal(survey?.score, 2);
      assert.equal(survey?.operatorId, 'ivanova');
      await eventually(() => !calls.calls.has(callId), 'the call is finished');
      assert.equal((await queue.operator('ivanova'))?.state, 'on_call', 'the desk closes the conversation');
    });

    it('the caller hangs up first: no survey is played and nothing is stored', async () => {
      const { uuid, callId, operatorLeg } = await withOperator();
      fs.hangup(uuid);
      await eventually(() => !fs.channels.get(operatorLeg)?.up, 'the operator leg ends with the caller');
      await eventually(() => !calls.calls.has(callId), 'the call is finished');
      assert.ok(!playedTo(uuid).includes(prompts.survey_after_operator));
      assert.equal(await getSurvey(db.sql, callId), null);
    });

    it('after a forward to an agency that hangs up first: the survey, the score stored as after the agency', async () => {
      calls = makeCalls(botUrl);
      const { uuid, callId } = await incoming();
      const conn = await eventually(() => bot.byCall(callId), 'bot receives the call');
      conn.send({ type: 'transfer', data: { target: AGENCY } });
      await eventually(() => conn.texts.find((m) => m.type === 'transferResult'), 'transfer answered');
      const agencyLeg = await eventually(
        () => calls.calls.get(callId)?.leg.bridgedUuid,
        'bridged to the agency',
      );
      assert.equal(calls.calls.get(callId)!.phase, 'agency');
      fs.hangup(agencyLeg);
      await eventually(() => playedTo(uuid).includes(prompts.survey_after_operator), 'the survey question');
      fs.dtmf(uuid, '5');
      await eventually(() => playedTo(uuid).includes(prompts.survey_thanks), 'thanks');
      const survey = await getSurvey(db.sql, callId);
      assert.equal(survey?.score, 5);
      assert.equal(survey?.after, 'agency');
      assert.equal(survey?.operatorId, null);
    });

    it('a caller who hangs up on the agency first hears nothing more', async () => {
      calls = makeCalls(botUrl);
      const { uuid, callId } = await incoming();
      const conn = await eventually(() => bot.byCall(callId), 'bot receives the call');
      conn.send({ type: 'transfer', data: { target: AGENCY } });
      const agencyLeg = await eventually(
        () => calls.calls.get(callId)?.leg.bridgedUuid,
        'bridged to the agency',
      );
      fs.hangup(uuid);
      await eventually(() => !fs.channels.get(agencyLeg)?.up, 'the agency leg ends with the caller');
      await eventually(() => !calls.calls.has(callId), 'the call is finished');
      assert.ok(!playedTo(uuid).includes(prompts.survey_after_operator));
      assert.equal(await getSurvey(db.sql, callId), null);
    });
  });
}
