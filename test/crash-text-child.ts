/**
 * The process that test/crash-text.test.ts kills with SIGKILL: a live text call that has had a few turns
 * and waits for the caller's next words. After each caller turn is answered and stored it prints one JSON
 * line with the transcript so far, then idles until killed.
 * Usage: node --import tsx test/crash-text-child.ts <pglite-dir | postgres-url> <schema|-> <nlu-model-dir>
 */

import { allSchemas } from '../cli/schema.js';
import { silentLogger } from '../core/log.js';
import { migrate } from '../store/migrate.js';
import { openSql } from '../store/sql.js';
import { TextLeg } from '../voicebot/channels/text/text-leg.js';
import { openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { CallSession } from '../voicebot/session.js';

const [where, schema, modelDir] = process.argv.slice(2);
if (!where || !schema || !modelDir)
  throw new Error('usage: crash-text-child <dir|url> <schema|-> <model-dir>');
const sql = where.startsWith('postgres')
  ? await openSql({ url: where, ...(schema !== '-' ? { schema } : {}) })
  : await openSql({ dataDir: where });
await migrate(sql, allSchemas);
const engine = await openDialogKnowledge(sql, silentLogger, { modelDir });
const leg = new TextLeg({
  callId: '',
  from: '+79991234567',
  to: '122',
  startedAt: new Date(),
  channel: 'text',
});
const session = new CallSession(leg, {
  kb: engine.kb,
  nlu: engine.nlu,
  sql,
  log: silentLogger,
  mode: 'text',
});
void session.run();
for (const words of ['хочу записаться к терапевту', 'а где поставить прививку от гриппа']) {
  await session.whenWaiting();
  leg.callerSays(words);
  await session.whenWaiting();
  await session.dialog.flushed();
  process.stdout.write(
    `${JSON.stringify({ callId: session.callId, transcript: session.dialog.transcript })}\n`,
  );
}
setInterval(() => {}, 60_000);
