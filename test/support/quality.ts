import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addTurn,
  createCall,
  endCall,
  recordOperatorClose,
  recordOperatorTaken,
  saveSurvey,
  setCallTopic,
} from '../../calls/records.js';
import { encodeWav } from '../../media/audio/wav.js';
import type { Sql } from '../../store/sql.js';
import type { OperatorQueue } from '../../telephony/queue.js';
import { recordingFinished, recordingStarted } from '../../telephony/records.js';

export const IVANOVA = { id: 'ivanova', name: 'Иванова М. П.' };

/**
 * A phone call Иванова took from the queue through the owners' own acts, on the test's clock: 20 s waiting,
 * 3 minutes of talk, 30 s of wrap-up; its turns, a 2-second recording on disk and the caller's survey (5).
 * `clock` is advanced by the helper.
 */
export async function seedOperatorCall(
  sql: Sql,
  queue: OperatorQueue,
  clock: { t: number },
  o: { callId: string; recordingsDir: string; topicId?: string },
): Promise<void> {
  const startedAt = new Date(clock.t);
  await createCall(sql, {
    id: o.callId,
    channel: 'sip',
    callerNumber: '+79145550011',
    dialledNumber: '122',
    startedAt,
  });
  await addTurn(sql, o.callId, 1, { who: 'bot', text: 'Здравствуйте! Линия сто двадцать два.', atMs: 0 });
  await addTurn(sql, o.callId, 2, { who: 'caller', text: 'Соедините с оператором, пожалуйста', atMs: 4000 });
  await addTurn(sql, o.callId, 3, { who: 'operator', text: 'Оператор Иванова, слушаю вас', atMs: 26_000 });
  if (o.topicId) await setCallTopic(sql, o.callId, o.topicId);
  const context = {
    reason: 'caller_request',
    callerNumber: null,
    topic: null,
    intents: [],
    entities: [],
    transcript: [],
    answers: [],
  };
  await queue.enqueue({ callId: o.callId, channel: 'sip', topicId: null, context, at: startedAt });
  clock.t += 20_000;
  await queue.assignNext({ channel: 'phone' });
  await queue.accept(o.callId, IVANOVA.id);
  await recordOperatorTaken(sql, o.callId, IVANOVA);
  clock.t += 180_000;
  await queue.closeConversation(o.callId, IVANOVA.id, { outcome: 'answered' });
  await recordOperatorClose(sql, o.callId, {
    operator: IVANOVA,
    outcome: 'answered',
    note: 'Дана справка',
    at: new Date(clock.t),
  });
  await endCall(sql, o.callId, 'escalated', new Date(clock.t));
  await saveSurvey(sql, o.callId, 5, new Date(clock.t), { after: 'operator', operatorId: IVANOVA.id });
  clock.t += 30_000;
  await queue.assignNext({ channel: 'phone' });
  const day = startedAt.toISOString().slice(0, 10);
  mkdirSync(join(o.recordingsDir, day), { recursive: true });
  const path = join(o.recordingsDir, day, `${o.callId}.wav`);
  writeFileSync(path, encodeWav({ samples: new Int16Array(16_000), sampleRate: 8000 }));
  const id = await recordingStarted(sql, {
    callId: o.callId,
    path,
    legs: ['caller', 'bot', 'operator:ivanova'],
    startedAt,
  });
  await recordingFinished(sql, id);
}
