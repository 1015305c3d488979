import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addTurn, createCall, endCall, saveOperatorNote } from '../../calls/records.js';
import { cdrAddLeg, cdrEnd, cdrStart } from '../../calls/sip.js';
import { encodeWav } from '../../media/audio/wav.js';
import type { Sql } from '../../store/sql.js';
import { OperatorQueue } from '../../telephony/queue.js';
import { recordingFinished, recordingStarted } from '../../telephony/records.js';
import { seedInquiry } from './inquiries.js';

/** The retention tests' clock: every record's age is counted from here. */
export const NOW = new Date('2026-06-01T09:00:00Z');
export const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);
export const NUMBER = '+79161234567';

export interface SeededCall {
  id: string;
  recordingPath: string | null;
  inquiryId: number | null;
  callbackId: string | null;
}

/**
 * A finished call as the line leaves it, `age` days before NOW: the call row with the caller's number, its
 * turns and the operator's note; for a phone call its recording on disk and its queue entry (with the
 * number and the transcript in the context), a closed callback; an inquiry relayed and closed.
 */
export async function seedCall(
  sql: Sql,
  dir: string,
  id: string,
  age: number,
  kind: 'phone' | 'chat' | 'outbound' = 'phone',
): Promise<SeededCall> {
  const startedAt = daysAgo(age);
  const at = (s: number) => new Date(startedAt.getTime() + s * 1000);
  const clock = { t: startedAt };
  const queue = new OperatorQueue(sql, { waitNormMs: 60_000, now: () => clock.t });
  if (kind === 'chat') {
    await createCall(sql, { id, channel: 'text', callerNumber: null, dialledNumber: '122', startedAt });
  } else {
    await cdrStart(sql, {
      callId: id,
      channelUuid: `uuid-${id}`,
      direction: kind === 'outbound' ? 'outbound' : 'inbound',
      from: kind === 'outbound' ? '122' : NUMBER,
      to: kind === 'outbound' ? NUMBER : '122',
      startedAt,
      answeredAt: startedAt,
      instanceId: 'test',
    });
    if (kind === 'outbound')
      await cdrAddLeg(sql, id, { kind: 'outbound', target: NUMBER, status: 'answered' }, at(1));
    await createCall(sql, {
      id,
      channel: 'sip',
      callerNumber: NUMBER,
      dialledNumber: '122',
      startedAt,
      flowId: 'main',
    });
  }
  await addTurn(sql, id, 1, { who: 'bot', text: 'Здравствуйте! Служба 122.', atMs: 0 });
  await addTurn(sql, id, 2, {
    who: 'caller',
    text: 'меня зовут Иван Петров, мой снилс 123-456-789 00',
    atMs: 2000,
  });
  await saveOperatorNote(sql, id, 'Гражданин Петров просил перезвонить');
  await endCall(sql, id, 'escalated', at(60));
  let recordingPath: string | null = null;
  let callbackId: string | null = null;
  const channel = kind === 'chat' ? 'text' : 'phone';
  await queue.enqueueCall({
    callId: id,
    topicId: null,
    channel,
    context: {
      ...(kind === 'chat' ? {} : { callerNumber: NUMBER }),
      transcript: [{ who: 'caller', text: 'Петров', atMs: 2000 }],
      intents: [],
      entities: [],
    },
  });
  clock.t = at(30);
  await queue.abandon(id);
  if (kind !== 'chat') {
    await cdrEnd(sql, id, { endedAt: at(60), outcome: 'bot', endReason: 'caller_hangup' });
    mkdirSync(dir, { recursive: true });
    recordingPath = join(dir, `${id}.wav`);
    writeFileSync(recordingPath, encodeWav({ samples: new Int16Array(800), sampleRate: 8000 }, 1));
    const rec = await recordingStarted(sql, { callId: id, path: recordingPath, legs: ['caller'], startedAt });
    await recordingFinished(sql, rec);
    const cb = await queue.callbacks.create({ phone: NUMBER, source: 'queue', callId: id });
    await queue.callbacks.edit(cb.id, { state: 'done' });
    callbackId = cb.id;
  }
  const inquiryId = await seedInquiry(sql, {
    callId: id,
    question: 'как получить справку',
    callbackNumber: NUMBER,
    receivedAt: at(50),
    answer: 'Ответ ведомства.',
  });
  await sql.query("UPDATE inquiries SET relayed_at = $2, status = 'closed' WHERE id = $1", [
    inquiryId,
    at(3600),
  ]);
  return { id, recordingPath, inquiryId, callbackId };
}

/** What is left of a seeded call's personal data, in every table that keeps some. */
export async function leftOf(sql: Sql, c: SeededCall) {
  const [call] = await sql.query<{
    caller_number: string | null;
    dialled_number: string;
    operator_note: string | null;
    legs: Array<Record<string, unknown>>;
  }>('SELECT caller_number, dialled_number, operator_note, legs FROM calls WHERE id = $1', [c.id]);
  const [turns] = await sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM call_turns WHERE call_id = $1',
    [c.id],
  );
  const [recs] = await sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM telephony_recordings WHERE call_id = $1',
    [c.id],
  );
  const [queued] = await sql.query<{ context: Record<string, unknown> }>(
    'SELECT context FROM telephony_queue_calls WHERE call_id = $1',
    [c.id],
  );
  const [cb] = c.callbackId
    ? await sql.query<{ phone: string | null }>('SELECT phone FROM telephony_callbacks WHERE id = $1', [
        c.callbackId,
      ])
    : [];
  const [inq] = await sql.query<{ callback_number: string | null }>(
    'SELECT callback_number FROM inquiries WHERE id = $1',
    [c.inquiryId],
  );
  return {
    callerNumber: call!.caller_number,
    dialledNumber: call!.dialled_number,
    note: call!.operator_note,
    outboundTargets: call!.legs.filter((l) => l.kind === 'outbound').map((l) => l.target ?? null),
    turns: turns!.n,
    recordings: recs!.n,
    file: c.recordingPath ? existsSync(c.recordingPath) : null,
    queueNumber: queued?.context.callerNumber ?? null,
    queueTranscript: Array.isArray(queued?.context.transcript) ? queued.context.transcript.length : null,
    callbackPhone: cb ? cb.phone : null,
    inquiryNumber: inq!.callback_number,
  };
}
