import type { Command } from 'commander';
import { markInterruptedCalls } from '../../calls/records.js';
import { OtklikError } from '../../core/errors.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { createTtsEngine } from '../../speech/tts/index.js';
import { startTelephony } from '../../telephony/app.js';
import {
  OperatorQueue,
  type OverflowTarget,
  type Presence,
  type QueueSettings,
  STRATEGIES,
  type Strategy,
} from '../../telephony/queue.js';
import { createCliContext } from '../context.js';

/**
 * `otklik telephony`: the SIP side alone (drachtio-srf app + FreeSWITCH control + operator queue dispatcher).
 * SIGTERM/SIGINT drain it: new INVITEs get 503, calls in progress finish or go to the queue, then it exits.
 * `otklik telephony operator …`, `otklik telephony queue …` and `otklik telephony queue-stats` manage and watch
 * the operator queues (the ACD).
 */
export function register(program: Command): void {
  const cmd = program
    .command('telephony')
    .description('телефония: приём вызовов через drachtio-server и FreeSWITCH, очередь операторов');

  cmd.action(async () => {
    const ctx = createCliContext();
    const sql = await ctx.store();
    ctx.log.info(
      { instanceId: ctx.config.instanceId },
      'starting: this process is instance %s',
      ctx.config.instanceId,
    );
    // The calls this instance held when it last stopped hard are over: their SIP legs died with it.
    const interrupted = await markInterruptedCalls(sql, ctx.config.instanceId);
    if (interrupted > 0)
      ctx.log.warn(
        { interrupted, instanceId: ctx.config.instanceId },
        "this instance's calls left open by its last run are marked interrupted",
      );
    const tts = createTtsEngine(ctx.config.speech, ctx.log, { dataDir: ctx.config.dataDir });
    let app: Awaited<ReturnType<typeof startTelephony>>;
    try {
      app = await startTelephony(ctx.config, {
        sql,
        log: ctx.log,
        kb: createKnowledgeBase(sql),
        tts,
        mediaSocketSecret: ctx.config.mediaSocket.secret,
      });
    } catch (err) {
      await tts.close();
      await ctx.close();
      throw err;
    }
    process.stderr.write(`Телефония запущена: номера ${ctx.config.telephony.numbers.join(', ')}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        process.stderr.write('Останавливаемся: новые вызовы не принимаем, ждём завершения текущих…\n');
        resolve();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    const { finished, handedOver } = await app.drain();
    if (!finished) process.stderr.write(`Переданы в очередь операторов: ${handedOver.length}\n`);
    await app.close();
    await tts.close();
    await ctx.close();
  });

  cmd
    .command('operator')
    .description('добавить оператора или изменить его состояние')
    .argument('<id>', 'идентификатор оператора')
    .option('--name <name>', 'имя оператора')
    .option('--uri <sip-uri>', 'SIP URI софтфона оператора')
    .option('--skills <topics>', 'темы через запятую (health,military,...)')
    .option('--state <state>', 'available | break | offline (busy: перерыв с причиной busy)')
    .option('--reason <reason>', 'причина перерыва (для --state break)')
    .option('--queue <queue-id>', 'включить оператора в очередь (тема или default)')
    .option('--level <n>', 'уровень в очереди (top-down: меньший первым)', '1')
    .option('--position <n>', 'место в уровне', '1')
    .action(
      async (
        id: string,
        opts: {
          name?: string;
          uri?: string;
          skills?: string;
          state?: string;
          reason?: string;
          queue?: string;
          level: string;
          position: string;
        },
      ) => {
        const ctx = createCliContext();
        try {
          const queue = new OperatorQueue(await ctx.store(), {
            waitNormMs: ctx.config.telephony.queueWaitNormMs,
          });
          if (opts.uri) {
            const skills = (opts.skills ?? '')
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
            await queue.upsertOperator({ id, name: opts.name ?? id, sipUri: opts.uri, skills });
          }
          if (opts.state) {
            if (!['available', 'break', 'busy', 'offline'].includes(opts.state)) {
              throw new OtklikError(
                'VALIDATION_FAILED',
                `--state must be available, break or offline, not ${opts.state}`,
              );
            }
            await queue.setOperatorState(id, opts.state as Presence | 'busy', opts.reason ?? null);
          }
          if (opts.queue) {
            const level = Number(opts.level);
            const position = Number(opts.position);
            if (!Number.isInteger(level) || !Number.isInteger(position))
              throw new OtklikError('VALIDATION_FAILED', '--level and --position must be integers');
            await queue.upsertQueue({ id: opts.queue });
            await queue.setMember(opts.queue, id, { level, position });
          }
          const op = await queue.operator(id);
          if (!op) throw new OtklikError('NOT_FOUND', `no operator ${id}: add one with --uri`);
          process.stdout.write(`${JSON.stringify(op)}\n`);
        } finally {
          await ctx.close();
        }
      },
    );

  cmd
    .command('queue')
    .description('создать очередь операторов (id темы или default) или изменить её настройки')
    .argument('<id>', 'идентификатор очереди: id темы базы знаний или default')
    .option('--name <name>', 'название очереди')
    .option('--strategy <strategy>', `стратегия распределения: ${STRATEGIES.join(' | ')}`)
    .option('--wait-norm-ms <ms>', 'норматив ожидания, мс (по умолчанию QUEUE_WAIT_NORM_MS)')
    .option('--wrap-up-ms <ms>', 'время на завершение разговора (заметки), мс')
    .option('--max-no-answer <n>', 'сколько предложений подряд без ответа — и оператор на перерыве')
    .option('--ring-timeout-ms <ms>', 'сколько ждать ответа оператора на предложение, мс')
    .option(
      '--overflow-after-ms <ms>',
      'через сколько ожидания вызов уходит по переливу, мс (off — без перелива)',
    )
    .option(
      '--overflow-to <target>',
      'куда перелив: queue:<id> (другая очередь), inquiry (обращение через бота), callback (обратный звонок); off — нет',
    )
    .option('--announce-max <n>', 'сколько объявлений позиции, после чего — обратный звонок или обращение')
    .action(
      async (
        id: string,
        opts: {
          name?: string;
          strategy?: string;
          waitNormMs?: string;
          wrapUpMs?: string;
          maxNoAnswer?: string;
          ringTimeoutMs?: string;
          overflowAfterMs?: string;
          overflowTo?: string;
          announceMax?: string;
        },
      ) => {
        const ctx = createCliContext();
        try {
          const num = (v: string | undefined, name: string, min: number) => {
            if (v === undefined) return undefined;
            const n = Number(v);
            if (!Number.isInteger(n) || n < min)
              throw new OtklikError('VALIDATION_FAILED', `--${name} must be an integer ≥ ${min}, not ${v}`);
            return n;
          };
          if (opts.strategy !== undefined && !(STRATEGIES as readonly string[]).includes(opts.strategy))
            throw new OtklikError('VALIDATION_FAILED', `--strategy must be one of ${STRATEGIES.join(', ')}`);
          const settings: QueueSettings = { id };
          if (opts.name) settings.name = opts.name;
          if (opts.strategy) settings.strategy = opts.strategy as Strategy;
          const waitNormMs = num(opts.waitNormMs, 'wait-norm-ms', 1);
          const wrapUpMs = num(opts.wrapUpMs, 'wrap-up-ms', 0);
          const maxNoAnswer = num(opts.maxNoAnswer, 'max-no-answer', 1);
          const ringTimeoutMs = num(opts.ringTimeoutMs, 'ring-timeout-ms', 1);
          if (waitNormMs !== undefined) settings.waitNormMs = waitNormMs;
          if (wrapUpMs !== undefined) settings.wrapUpMs = wrapUpMs;
          if (maxNoAnswer !== undefined) settings.maxNoAnswer = maxNoAnswer;
          if (ringTimeoutMs !== undefined) settings.ringTimeoutMs = ringTimeoutMs;
          if (opts.overflowAfterMs === 'off') settings.overflowAfterMs = null;
          else {
            const overflowAfterMs = num(opts.overflowAfterMs, 'overflow-after-ms', 1);
            if (overflowAfterMs !== undefined) settings.overflowAfterMs = overflowAfterMs;
          }
          if (opts.overflowTo !== undefined)
            settings.overflowTo = opts.overflowTo === 'off' ? null : (opts.overflowTo as OverflowTarget);
          const announceMax = num(opts.announceMax, 'announce-max', 1);
          if (announceMax !== undefined) settings.announceMax = announceMax;
          const queue = new OperatorQueue(await ctx.store(), {
            waitNormMs: ctx.config.telephony.queueWaitNormMs,
          });
          process.stdout.write(`${JSON.stringify(await queue.upsertQueue(settings))}\n`);
        } finally {
          await ctx.close();
        }
      },
    );

  cmd
    .command('queue-stats')
    .description('статистика очереди операторов (JSON): поступило, отвечено, потеряно, ожидание')
    .option('--from <iso-date>', 'с какого момента')
    .option('--to <iso-date>', 'по какой момент')
    .action(async (opts: { from?: string; to?: string }) => {
      const ctx = createCliContext();
      try {
        const parse = (v: string | undefined, name: string) => {
          if (v === undefined) return undefined;
          const d = new Date(v);
          if (Number.isNaN(d.getTime()))
            throw new OtklikError('VALIDATION_FAILED', `--${name}: not a date: ${v}`);
          return d;
        };
        const range: { from?: Date; to?: Date } = {};
        const from = parse(opts.from, 'from');
        const to = parse(opts.to, 'to');
        if (from) range.from = from;
        if (to) range.to = to;
        const queue = new OperatorQueue(await ctx.store(), {
          waitNormMs: ctx.config.telephony.queueWaitNormMs,
        });
        process.stdout.write(`${JSON.stringify(await queue.stats(range))}\n`);
      } finally {
        await ctx.close();
      }
    });
}
