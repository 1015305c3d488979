/**
 * The HTTP app with every area `otklik serve` registers (cli/services.ts), on a test store: the metrics and
 * API-description tests look at the whole of it. The shipped KB and NLU, the real operator queue, one
 * ChatSessions shared by the citizens' chat and the desk, the time of day the test's (office hours).
 */
import type { RouteOptions } from 'fastify';
import { agencyAnswerPlugin } from '../../admin/plugins/agency-answer.js';
import { callReportsPlugin } from '../../admin/plugins/call-reports.js';
import { callbacksPlugin } from '../../admin/plugins/callbacks.js';
import { callsPlugin } from '../../admin/plugins/calls.js';
import { deskPlugin } from '../../admin/plugins/desk.js';
import { inboxPlugin } from '../../admin/plugins/inbox.js';
import { incidentsPlugin } from '../../admin/plugins/incidents.js';
import { inquiriesPlugin } from '../../admin/plugins/inquiries.js';
import { kbPlugin } from '../../admin/plugins/kb.js';
import { kbAnswersPlugin } from '../../admin/plugins/kb-answers.js';
import { kbHistoryPlugin } from '../../admin/plugins/kb-history.js';
import type { MetricsPluginOptions } from '../../admin/plugins/metrics.js';
import { nluModelsPlugin } from '../../admin/plugins/nlu-models.js';
import { qualityPlugin } from '../../admin/plugins/quality.js';
import { recordingsPlugin } from '../../admin/plugins/recordings.js';
import { reportRunsPlugin } from '../../admin/plugins/report-runs.js';
import { reportsPlugin } from '../../admin/plugins/reports.js';
import { studioIntentsPlugin } from '../../admin/plugins/studio-intents.js';
import { studioRefsPlugin } from '../../admin/plugins/studio-refs.js';
import { studioTryPlugin } from '../../admin/plugins/studio-try.js';
import { usersPlugin } from '../../admin/plugins/users.js';
import { engineBuild } from '../../admin/report-engine.js';
import { adminArea, build } from '../../admin/server.js';
import type { TypedApp } from '../../admin/typed.js';
import { addUser, type Role } from '../../admin/users.js';
import { silentLogger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { createNluTrainer } from '../../nlu/trainer.js';
import { OperatorQueue } from '../../telephony/queue.js';
import { ChatSessions } from '../../voicebot/channels/text/chat-sessions.js';
import textChatPlugin from '../../voicebot/channels/text/plugin.js';
import { type CallTestEnv, openCallTestEnv } from '../calls-text-support.js';
import { clockFrom, OFFICE_HOURS } from './chat.js';

export const STAFF_PASSWORD = 'пароль-сотрудника-линии';

export interface FullApp {
  env: CallTestEnv;
  app: TypedApp;
  base: string;
  queue: OperatorQueue;
  now: () => Date;
  /** Adds a staff member and signs them in; returns their bearer token. */
  signIn(login: string, role: Role): Promise<string>;
  close(): Promise<void>;
}

export async function openFullApp(
  opts: { metrics?: MetricsPluginOptions; onRoute?: (r: RouteOptions) => void } = {},
): Promise<FullApp> {
  const env = await openCallTestEnv('pglite');
  const sql = env.db.sql;
  const now = clockFrom(OFFICE_HOURS);
  const queue = new OperatorQueue(sql, { waitNormMs: 60_000, now });
  const metrics: Metrics | undefined = opts.metrics?.metrics;
  const deps = {
    kb: env.engine.kb,
    nlu: env.engine.nlu,
    sql,
    log: silentLogger,
    handOff: queue,
    now,
    ...(metrics ? { metrics } : {}),
  };
  const chats = new ChatSessions(deps);
  const kb = createKnowledgeBase(sql);
  // The «Обучение» page trains into the store's registry; the calls here keep the file model (env.engine).
  const trainer = createNluTrainer({ sql, kb, log: silentLogger, folds: 3, now });
  const app = await build({
    sql,
    log: silentLogger,
    now,
    ...(opts.onRoute ? { onRoute: opts.onRoute } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    docs: { version: '0.1.0' },
    plugins: [
      adminArea(kbPlugin, { sql }),
      adminArea(kbHistoryPlugin, { sql, now }),
      adminArea(inboxPlugin, { sql, kb, now }),
      adminArea(studioIntentsPlugin, { sql }),
      adminArea(studioTryPlugin, { kb, nlu: env.engine.nlu, handOff: queue, log: silentLogger, now }),
      adminArea(usersPlugin, { sql, now }),
      adminArea(kbAnswersPlugin, { sql, log: silentLogger, now }),
      adminArea(incidentsPlugin, { sql }),
      adminArea(studioRefsPlugin, { sql }),
      adminArea(nluModelsPlugin, { sql, trainer, now }),
      adminArea(callsPlugin, { sql, queue, health: async () => ({}), timeZone: kb.timezone, now }),
      adminArea(deskPlugin, { sql, queue, kb, timeZone: kb.timezone, chats, now }),
      adminArea(inquiriesPlugin, { sql }),
      adminArea(agencyAnswerPlugin, { sql, secret: 'секрет-подписи-ссылок-для-тестов-0123456789' }),
      adminArea(recordingsPlugin, { sql }),
      adminArea(reportsPlugin, { sql, timeZone: kb.timezone }),
      adminArea(qualityPlugin, { sql, timeZone: kb.timezone, topics: kb.topics, now }),
      adminArea(reportRunsPlugin, {
        sql,
        build: engineBuild({ sql: sql, kb, defaultNormMs: 60_000 }),
        log: silentLogger,
        now,
      }),
      adminArea(callReportsPlugin, {
        sql,
        kb,
        defaultNormMs: 60_000,
        now,
        feed: { token: 'токен-ситуационного-центра-для-тестов-0123456789', ratePerMinute: 30 },
      }),
      adminArea(callbacksPlugin, { sql, callbacks: queue.callbacks }),
      adminArea(textChatPlugin, { deps, chats }),
    ],
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    env,
    app,
    base,
    queue,
    now,
    async signIn(login, role) {
      await addUser(sql, { login, role, name: login, password: STAFF_PASSWORD });
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password: STAFF_PASSWORD }),
      });
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await trainer.close();
      await app.close();
      await env.close();
    },
  };
}
