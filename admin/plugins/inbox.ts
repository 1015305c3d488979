import { Type } from 'typebox';
import { callerTurnWeeks, type InboxReason, type InboxTurn, inboxTurns } from '../../calls/inbox-rows.js';
import { getCall, getTurns } from '../../calls/records.js';
import { OtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { maskPersonalText } from '../../core/mask-text.js';
import { createKbEditor, type IntentInput } from '../../kb/editor.js';
import { inboxDecisions, recordInboxDecisions } from '../../kb/inbox.js';
import type { Intent, Topic } from '../../kb/types.js';
import { addDays, weekdayOf, weekdays, zonedInstant, zonedParts } from '../../kb/zoned-time.js';
import { defaultThresholds } from '../../nlu/calibrate.js';
import { normalize } from '../../nlu/normalize.js';
import { groupPhrases, phraseKey } from '../../nlu/phrase-groups.js';
import type { Sql } from '../../store/sql.js';
import { auditKbChange, writeAudit } from '../audit.js';
import { parseDay } from '../reports/call-report.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * The knowledge studio's inbox («Входящие фразы»): what callers said that the bot did not understand, read
 * with low confidence, was told was wrong («нет» after «Правильно ли я поняла…»), or that ended with an
 * operator (calls/inbox-rows.ts), grouped by similar wording (nlu/phrase-groups.ts), with the calls it came
 * from; texts masked (core/mask-text.ts). An editor adds a group's phrase to an intent as a training phrase,
 * makes a new intent of a group, or dismisses it (kb/inbox.ts keeps the decision: a decided wording leaves
 * the inbox); supervisors read. Each act, and each reading of callers' words, is audited. After a phrase
 * enters the KB the NLU retrains through its own path (`retrain`: the service's retrainIfStale).
 */
export interface InboxPluginOptions {
  sql: Sql;
  kb: { intents(): Promise<Intent[]>; topics(): Promise<Topic[]>; timezone(): Promise<string> };
  /** Started after a phrase or an intent was added (NluService.retrainIfStale); its failure is logged. */
  retrain?: () => Promise<unknown>;
  /** A question intent below this confidence is «низкая уверенность» (default: the NLU's confirm threshold). */
  lowConfidence?: number;
  log?: Logger;
  now?: () => Date;
}

const READ_ROLES = ['editor', 'supervisor'] as const;
/** The roles that open a call's card (admin/plugins/calls.ts): they get the link to it. */
const CALL_CARD_ROLES = ['supervisor', 'admin'];
const EXAMPLES = 5;
const WEEKS = 8;
const DEFAULT_DAYS = 30;
const IntentId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9_.]+$' });
const Keys = Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { minItems: 1, maxItems: 500 });

/** The Monday of the ISO week `date` falls in. */
const mondayOf = (date: string) => addDays(date, -weekdays.indexOf(weekdayOf(date)));

function reasonCounts(turns: InboxTurn[]): Record<InboxReason, number> {
  const counts = { confirmed_wrong: 0, not_understood: 0, low_confidence: 0, to_operator: 0 };
  for (const t of turns) counts[t.reason]++;
  return counts;
}

export async function inboxPlugin(app: TypedApp, opts: InboxPluginOptions): Promise<void> {
  const { sql, kb } = opts;
  const now = opts.now ?? (() => new Date());
  const editor = createKbEditor(sql, { now });
  const lowConfidence = opts.lowConfidence ?? defaultThresholds.confirm;

  const retrain = () => {
    if (!opts.retrain) return;
    opts
      .retrain()
      .catch((err: Error) =>
        opts.log?.error({ err: err.message }, 'NLU retraining after an inbox decision failed'),
      );
  };

  /** The inbox's period: the region's days [from, to], by default the last 30 days up to today. */
  async function period(q: { from?: string; to?: string }) {
    const timeZone = await kb.timezone();
    const today = zonedParts(now(), timeZone).date;
    const to = q.to ?? today;
    const from = q.from ?? addDays(to, -(DEFAULT_DAYS - 1));
    if (parseDay(from, 'Начало периода') > parseDay(to, 'Конец периода'))
      throw new OtklikError('VALIDATION_FAILED', `Начало периода ${from} позже его конца ${to}`);
    return {
      timeZone,
      today,
      from,
      to,
      fromAt: zonedInstant(from, 0, timeZone),
      toAt: zonedInstant(addDays(to, 1), 0, timeZone),
    };
  }

  app.get(
    '/api/kb/inbox',
    {
      preHandler: requireRole(...READ_ROLES),
      schema: {
        tags: ['kb'],
        summary:
          'Входящие фразы: что бот не понял, сгруппировано по формулировкам, и доля нераспознанных по неделям',
        querystring: Type.Object({
          from: Type.Optional(Type.String({ format: 'date' })),
          to: Type.Optional(Type.String({ format: 'date' })),
        }),
      },
    },
    async (request) => {
      const p = await period(request.query);
      const turns = await inboxTurns(sql, { from: p.fromAt, to: p.toAt, lowConfidence });
      const keyed = turns.map((t) => ({ turn: t, key: phraseKey(t.text) }));
      const decided = new Set(
        (await inboxDecisions(sql, [...new Set(keyed.map((k) => k.key))])).map((d) => d.key),
      );
      const open = keyed.filter((k) => k.key !== '' && !decided.has(k.key)).map((k) => k.turn);
      const groups = groupPhrases(open, (t) => maskPersonalText(t.text));
      const intents = await kb.intents();
      const titles = new Map(intents.map((i) => [i.id, i.title]));
      const role = request.staff!.role;

      // The figure: the unrecognized share of the callers' turns in each of the last eight local weeks.
      const thisMonday = mondayOf(p.today);
      const firstMonday = addDays(thisMonday, -7 * (WEEKS - 1));
      const counted = await callerTurnWeeks(sql, {
        from: zonedInstant(firstMonday, 0, p.timeZone),
        to: zonedInstant(addDays(thisMonday, 7), 0, p.timeZone),
        timeZone: p.timeZone,
      });
      const weeks = Array.from({ length: WEEKS }, (_, i) => {
        const week = addDays(firstMonday, 7 * i);
        const c = counted.find((w) => w.week === week);
        const turnsOf = c?.turns ?? 0;
        const unrecognized = c?.unrecognized ?? 0;
        return { week, turns: turnsOf, unrecognized, share: turnsOf === 0 ? null : unrecognized / turnsOf };
      });

      await writeAudit(sql, request.staff!.login, 'kb.inbox.read', `${p.from}..${p.to}`, {
        turns: open.length,
        groups: groups.length,
      });
      return {
        from: p.from,
        to: p.to,
        callLinks: CALL_CARD_ROLES.includes(role),
        groups: groups.map((g) => {
          const guessed = new Map<string, number>();
          for (const t of g.members)
            if (t.intent !== 'out_of_scope') guessed.set(t.intent, (guessed.get(t.intent) ?? 0) + 1);
          return {
            key: g.key,
            keys: g.keys,
            label: g.label,
            count: g.count,
            calls: new Set(g.members.map((t) => t.callId)).size,
            reasons: reasonCounts(g.members),
            guessedIntents: [...guessed.entries()]
              .sort((a, b) => b[1] - a[1])
              .map(([id, n]) => ({ id, title: titles.get(id) ?? id, count: n })),
            examples: g.members.slice(0, EXAMPLES).map((t) => ({
              callId: t.callId,
              seq: t.seq,
              at: t.at,
              text: maskPersonalText(t.text),
              reason: t.reason,
              intent: t.intent,
              confidence: t.confidence,
            })),
            texts: [...new Set(g.members.map((t) => maskPersonalText(t.text)))].slice(0, 50),
          };
        }),
        weeks,
        intents: intents
          .filter((i) => !i.id.startsWith('dialog.') && i.id !== 'out_of_scope')
          .map((i) => ({ id: i.id, title: i.title, topicId: i.topicId })),
        topics: (await kb.topics()).map((t) => ({ id: t.id, title: t.title })),
      };
    },
  );

  app.get(
    '/api/kb/inbox/calls/:id',
    {
      preHandler: requireRole(...READ_ROLES),
      schema: {
        tags: ['kb'],
        summary: 'Разговор, из которого пришла фраза: реплики без персональных данных',
        params: Type.Object({ id: TextId }),
      },
    },
    async (request) => {
      const call = await getCall(sql, request.params.id);
      if (!call) throw new OtklikError('NOT_FOUND', 'Нет такого звонка');
      const turns = await getTurns(sql, call.id);
      await writeAudit(sql, request.staff!.login, 'kb.inbox.call', call.id, { turns: turns.length });
      return {
        id: call.id,
        channel: call.channel,
        startedAt: call.startedAt,
        outcome: call.outcome,
        turns: turns.map((t) => ({
          seq: t.seq,
          who: t.who,
          text: t.who === 'bot' ? t.text : maskPersonalText(t.text),
          atMs: t.atMs,
          intent: t.intent ?? null,
          confidence: t.confidence ?? null,
        })),
      };
    },
  );

  /** Training phrases equal to `phrase` (as the classifier reads them) in intents other than `intentId`. */
  async function elsewhere(phrase: string, intentId: string | null): Promise<Intent | null> {
    const n = normalize(phrase);
    for (const intent of await kb.intents()) {
      if (intent.id === intentId) continue;
      if (intent.phrases.some((p) => normalize(p) === n)) return intent;
    }
    return null;
  }

  const phraseBody = Type.String({ minLength: 1, maxLength: 500 });

  app.post(
    '/api/kb/inbox/assign',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['kb'],
        summary: 'Добавить фразу из входящих в намерение как обучающую',
        body: Type.Object({ intentId: IntentId, phrase: phraseBody, keys: Keys }),
      },
    },
    async (request) => {
      const { intentId, keys } = request.body;
      const phrase = request.body.phrase.trim();
      const intent = (await kb.intents()).find((i) => i.id === intentId);
      if (!intent) throw new OtklikError('NOT_FOUND', `Нет намерения «${intentId}»`);
      const other = await elsewhere(phrase, intentId);
      if (other)
        throw new OtklikError(
          'CONFLICT',
          `Фраза «${phrase}» уже обучает намерение «${other.title}» (${other.id}): одна фраза — одно намерение`,
        );
      const had = intent.phrases.some((p) => normalize(p) === normalize(phrase));
      if (!had) await editor.addPhrases(intentId, [phrase]);
      await recordInboxDecisions(sql, {
        keys: [...keys, phraseKey(phrase)],
        decision: 'assigned',
        intentId,
        sample: phrase,
        by: request.staff!.login,
        at: now(),
      });
      await auditKbChange(sql, request.staff!.login, 'kb.inbox.assign', intentId, {
        phrase,
        keys: keys.length,
        added: !had,
      });
      if (!had) retrain();
      return { intentId, title: intent.title, phrase, added: !had };
    },
  );

  app.post(
    '/api/kb/inbox/new-intent',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['kb'],
        summary: 'Создать намерение из группы входящих фраз',
        body: Type.Object({
          id: IntentId,
          topicId: Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9_.]+$' }),
          title: Type.String({ minLength: 1, maxLength: 200 }),
          phrases: Type.Array(phraseBody, { minItems: 1, maxItems: 200 }),
          keys: Keys,
        }),
      },
    },
    async (request, reply) => {
      const { id, topicId, keys } = request.body;
      const title = request.body.title.trim();
      const phrases = [...new Set(request.body.phrases.map((p) => p.trim()).filter((p) => p !== ''))];
      if ((await kb.intents()).some((i) => i.id === id))
        throw new OtklikError('CONFLICT', `Намерение «${id}» уже есть: выберите другой код`);
      if (!(await kb.topics()).some((t) => t.id === topicId))
        throw new OtklikError('NOT_FOUND', `Нет темы «${topicId}»`);
      for (const phrase of phrases) {
        const other = await elsewhere(phrase, null);
        if (other)
          throw new OtklikError(
            'CONFLICT',
            `Фраза «${phrase}» уже обучает намерение «${other.title}» (${other.id}): уберите её из списка`,
          );
      }
      await editor.upsertIntent({
        id,
        topicId: topicId as IntentInput['topicId'],
        title,
        handling: 'answer',
        phrases,
      });
      await recordInboxDecisions(sql, {
        keys: [...keys, ...phrases.map(phraseKey)],
        decision: 'new_intent',
        intentId: id,
        sample: phrases[0]!,
        by: request.staff!.login,
        at: now(),
      });
      await auditKbChange(sql, request.staff!.login, 'kb.inbox.new_intent', id, {
        topicId,
        phrases: phrases.length,
      });
      retrain();
      return reply.code(201).send({ id, topicId, title, phrases });
    },
  );

  app.post(
    '/api/kb/inbox/dismiss',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['kb'],
        summary: 'Отклонить группу входящих фраз (больше не показывать)',
        body: Type.Object({ keys: Keys, sample: Type.Optional(phraseBody) }),
      },
    },
    async (request) => {
      const { keys } = request.body;
      await recordInboxDecisions(sql, {
        keys,
        decision: 'dismissed',
        intentId: null,
        sample: request.body.sample ?? '',
        by: request.staff!.login,
        at: now(),
      });
      await writeAudit(sql, request.staff!.login, 'kb.inbox.dismiss', undefined, { keys: keys.length });
      return { dismissed: keys.length };
    },
  );
}
