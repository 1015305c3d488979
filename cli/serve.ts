import type { Command } from 'commander';
import { retentionPolicy } from '../admin/jobs/retention.js';
import { startWorker } from '../admin/jobs/worker.js';
import { addUser, type Role, roles } from '../admin/users.js';
import { loadConfig } from '../core/config.js';
import { OtklikError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { configuredMailer } from '../inquiries/dispatch.js';
import { callbackSettings } from '../telephony/app.js';
import { OperatorQueue } from '../telephony/queue.js';
import { answerLinkOptions } from './answer-link-secret.js';
import { createCliContext } from './context.js';
import { startServices } from './services.js';

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** `otklik serve` (everything in one process), `otklik worker` (jobs alone), `otklik admin user add`. */
export function register(program: Command): void {
  program
    .command('serve')
    .description('запустить все части в одном процессе (по умолчанию для npm start)')
    .action(async () => {
      const config = loadConfig();
      const log = createLogger({ level: config.log.level, pii: config.log.pii, destination: process.stdout });
      const services = await startServices(config, log);
      process.stderr.write(
        `Отклик запущен: интерфейс сотрудников ${services.httpUrl}/ , чат ${services.httpUrl}/chat.html , медиасокет ${services.mediaUrl}\n`,
      );
      const signal = await untilSignal();
      log.info({ signal }, 'stopping: no new calls; calls in progress finish or go to the queue');
      await services.stop();
    });

  program
    .command('worker')
    .description(
      'фоновые задачи: передача обращений уполномоченным лицам, обратные звонки, сроки хранения персональных данных (BullMQ, Redis)',
    )
    .action(async () => {
      const ctx = createCliContext(process.env, { service: true });
      const log = ctx.log;
      log.info(
        { instanceId: ctx.config.instanceId, prefix: ctx.config.nodes.queuePrefix },
        'starting the job worker: instance %s',
        ctx.config.instanceId,
      );
      const sql = await ctx.store();
      const queue = new OperatorQueue(sql, {
        waitNormMs: ctx.config.telephony.queueWaitNormMs,
        callbacks: callbackSettings(ctx.config),
      });
      const worker = await startWorker({
        redisUrl: ctx.config.redis.url,
        sql,
        mailer: configuredMailer(ctx.config.mail, log),
        log,
        sweepIntervalMs: ctx.config.jobs.sweepIntervalMs,
        prefix: ctx.config.nodes.queuePrefix,
        mailFrom: ctx.config.mail.from,
        reminders: {
          beforeMs: ctx.config.jobs.reminderBeforeMs,
          supervisorEmail: ctx.config.mail.supervisorEmail,
        },
        ...(() => {
          const answerLink = answerLinkOptions(ctx.config, log);
          return answerLink ? { answerLink } : {};
        })(),
        // Due callbacks go to the operator queue from here too (telephony's dispatcher places them).
        callbacks: queue.callbacks,
        retention: {
          policy: retentionPolicy(ctx.config.retention),
          intervalMs: ctx.config.retention.intervalMs,
        },
      });
      process.stderr.write('Обработчик фоновых задач запущен\n');
      await untilSignal();
      await worker.close();
      await ctx.close();
    });

  const admin = program.command('admin').description('учётные записи сотрудников');
  admin
    .command('user-add <login>')
    .description('добавить сотрудника (пароль берётся из OTKLIK_USER_PASSWORD)')
    .requiredOption('--role <role>', `роль: ${roles.join(', ')}`)
    .requiredOption('--name <name>', 'ФИО')
    .option('--agency <id>', 'ведомство (участник из базы знаний): согласующий согласует только его темы')
    .action(async (login: string, opts: { role: string; name: string; agency?: string }) => {
      const ctx = createCliContext();
      try {
        const password = ctx.config.staff.newUserPassword;
        if (!password)
          throw new OtklikError('VALIDATION_FAILED', "set OTKLIK_USER_PASSWORD to the new user's password");
        await addUser(await ctx.store(), {
          login,
          name: opts.name,
          role: opts.role as Role,
          agency: opts.agency ?? null,
          password,
        });
        process.stdout.write(
          `Сотрудник ${login} (${opts.role}${opts.agency ? `, ведомство ${opts.agency}` : ''}) добавлен\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
