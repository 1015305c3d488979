/**
 * The citizen's side of an inquiry sent to several agencies (Irkutsk 10.1, 10.3): a notice callback tells them
 * of an agency's extension with its new date and reason, and each answer is relayed as it comes, saying which
 * answers are still awaited and by when, in the region's time zone. The callbacks run the voice bot on a text
 * leg carrying the flow and inquiry in its metadata, as telephony's outbound legs do.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/log.js';
import { importKb } from '../kb/transfer.js';
import { type CallTestEnv, openCallTestEnv, runTextLeg } from '../test/calls-text-support.js';
import { sampleAgreements, seedWithAgreements } from '../test/support/agreements.js';
import { backends } from '../test/support/db.js';
import { seedRegistered } from '../test/support/inquiries.js';
import { TextLeg } from '../voicebot/channels/text/text-leg.js';
import { recordAgencyAnswer } from './answer.js';
import { extendInquiry } from './extension.js';
import { registerInquiry } from './register.js';
import { type PlaceCall, type PlaceCallRequest, relayAnswers } from './relay.js';

const msk = (local: string) => new Date(`${local}+03:00`);

for (const backend of backends) {
  describe(`relaying the answers of several agencies (${backend})`, () => {
    let env: CallTestEnv;
    let clock: Date;
    const now = () => clock;

    before(async () => {
      env = await openCallTestEnv(backend);
      await importKb(env.db.sql, seedWithAgreements(sampleAgreements));
    });
    after(async () => env?.close());

    function textChannelCalls() {
      const placed: Array<{ request: PlaceCallRequest; said: string }> = [];
      const placeCall: PlaceCall = async (request) => {
        const leg = new TextLeg({
          callId: randomUUID(),
          from: '122',
          to: request.target,
          startedAt: clock,
          channel: 'simulator',
          extra: { flowId: request.flowId, direction: 'outbound', ...request.metadata },
        });
        await runTextLeg(leg, {
          kb: env.engine.kb,
          nlu: env.engine.nlu,
          sql: env.db.sql,
          queueWaitNormMs: 60_000,
          log: silentLogger,
          now,
        });
        placed.push({ request, said: leg.messages.map((m) => m.text).join('\n') });
        return { status: 'answered' };
      };
      return { placed, placeCall };
    }

    it('tells the citizen of an extension by a notice callback, then relays each answer as it comes', async () => {
      const sql = env.db.sql;
      const seeded = await seedRegistered(sql, { question: 'x', receivedAt: msk('2026-11-24T09:00') });
      await sql.query('DELETE FROM inquiries');
      const { inquiries } = await registerInquiry(sql, {
        callId: seeded.callId,
        question: 'куда обращаться за пособием на лечение ребёнка',
        intentId: null,
        topicId: 'social',
        agencyId: null,
        agencyIds: ['social_support', 'health_hotline'],
        callbackNumber: '+79990001122',
        receivedAt: msk('2026-11-24T10:00'),
      });
      const [social, health] = inquiries;
      await extendInquiry(sql, health!.id, {
        amount: 5,
        reason: 'запрошены сведения в районной больнице',
        by: 'orlova',
        at: msk('2026-11-24T20:30'),
      });

      // 20:30: within calling hours (till 21:00), the notice goes out at once.
      clock = msk('2026-11-24T20:30');
      const calls = textChannelCalls();
      const first = await relayAnswers({ sql, log: silentLogger, placeCall: calls.placeCall, now });
      assert.equal(first.notices, 1);
      assert.deepEqual(calls.placed[0]!.request.metadata, { inquiryId: health!.id, notice: 'extension' });
      const notice = calls.placed[0]!.said;
      assert.match(
        notice,
        new RegExp(
          `обращению номер ${social!.id} срок ответа от организации «[^»]+» продлён до 2 декабря в 10:00`,
        ),
      );
      assert.match(notice, /Причина: запрошены сведения в районной больнице\./);
      const [told] = await sql.query<{ extension_noticed_at: Date | null }>(
        'SELECT extension_noticed_at FROM inquiries WHERE id = $1',
        [health!.id],
      );
      assert.deepEqual(told!.extension_noticed_at, clock);
      // Told: no second notice.
      clock = msk('2026-11-24T20:45');
      assert.equal(
        (await relayAnswers({ sql, log: silentLogger, placeCall: calls.placeCall, now })).notices,
        0,
      );

      // The social agency answers first: relayed the next morning, naming the answer still awaited.
      await recordAgencyAnswer(sql, social!.id, {
        text: 'Пособие назначает отдел соцзащиты по месту жительства.',
        by: 'orlova',
      });
      clock = msk('2026-11-25T09:00');
      const second = await relayAnswers({ sql, log: silentLogger, placeCall: calls.placeCall, now });
      assert.equal(second.answered, 1);
      const relayed = calls.placed[1]!;
      assert.deepEqual(relayed.request.metadata, { inquiryId: social!.id });
      assert.match(relayed.said, /Пособие назначает отдел соцзащиты по месту жительства\./);
      assert.match(
        relayed.said,
        /Ответ от организации «[^»]+» ожидается до 2 декабря в 10:00, мы позвоним вам ещё раз\./,
      );

      // The health agency answers later: its callback says its term was extended and nothing more is awaited.
      await recordAgencyAnswer(sql, health!.id, { text: 'Запись к педиатру восстановлена.', by: 'orlova' });
      clock = msk('2026-12-01T11:00');
      await relayAnswers({ sql, log: silentLogger, placeCall: calls.placeCall, now });
      const last = calls.placed[2]!;
      assert.match(
        last.said,
        /Запись к педиатру восстановлена\. Срок ответа продлевался до 2 декабря в 10:00\./,
      );
      assert.doesNotMatch(last.said, /ожидается/);
      const statuses = await sql.query<{ status: string }>('SELECT status FROM inquiries ORDER BY id');
      assert.deepEqual(
        statuses.map((s) => s.status),
        ['closed', 'closed'],
      );
    });
  });
}
