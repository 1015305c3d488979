import { randomUUID } from 'node:crypto';
import { createCall } from '../../calls/records.js';
import { recordAgencyAnswer } from '../../inquiries/answer.js';
import { type RegisteredInquiry, registerInquiry } from '../../inquiries/register.js';
import type { Sql } from '../../store/sql.js';

export interface SeedInquiry {
  question: string;
  /** Default `social`; null: no topic fitted (no agency either: staff choose it). */
  topicId?: string | null;
  receivedAt: Date;
  callbackNumber?: string;
  /** The agency's answer, recorded as staff would; without it the inquiry stays registered. */
  answer?: string;
  /** The call the question came from; a fresh text call by default. */
  callId?: string;
}

/** The caller's call and the registered question, as the voice bot's inquiry step leaves them. */
export async function seedRegistered(sql: Sql, i: Omit<SeedInquiry, 'answer'>): Promise<RegisteredInquiry> {
  const callbackNumber = i.callbackNumber ?? '+79990001122';
  let callId = i.callId;
  if (!callId) {
    callId = randomUUID();
    await createCall(sql, {
      id: callId,
      channel: 'text',
      callerNumber: callbackNumber,
      dialledNumber: '122',
      startedAt: new Date(i.receivedAt.getTime() - 5 * 60_000),
    });
  }
  return registerInquiry(sql, {
    callId,
    question: i.question,
    intentId: null,
    topicId: i.topicId === undefined ? 'social' : i.topicId,
    agencyId: null,
    callbackNumber,
    receivedAt: i.receivedAt,
  });
}

/** An inquiry as the line leaves it: the caller's call, the registered question and, optionally, the answer. */
export async function seedInquiry(sql: Sql, i: SeedInquiry): Promise<number> {
  const { id } = await seedRegistered(sql, i);
  if (i.answer) await recordAgencyAnswer(sql, id, { text: i.answer, by: 'sidorova' });
  return id;
}
