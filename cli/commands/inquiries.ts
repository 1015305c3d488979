/**
 * `otklik inquiries ingest-mail`: one RFC 822 message on stdin (the MTA's pipe, e.g. a Postfix alias
 * `122-answers: "|/usr/bin/otklik inquiries ingest-mail"`) is an agency's reply to the dispatch mail; its
 * answer is recorded (inquiries/mail-reply.ts). A message that matches no inquiry, carries no answer, or
 * answers one already answered is kept as an .eml file in mail.unmatchedDir (default dataDir/unmatched-mail)
 * and the command exits non-zero (67 unmatched, 65 otherwise), so the MTA bounces it to the sender: nothing
 * is lost, and staff enter it by hand from the file.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { isOtklikError, OtklikError } from '../../core/errors.js';
import { ingestAgencyReply } from '../../inquiries/mail-reply.js';
import { answerLinkOptions } from '../answer-link-secret.js';
import { createCliContext } from '../context.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function register(program: Command): void {
  const cmd = program.command('inquiries').description('обращения к уполномоченным лицам');
  cmd
    .command('ingest-mail')
    .description('принять ответ ведомства: одно письмо (RFC 822) на стандартном входе, от почтового сервера')
    .option('--now <iso>', 'время получения ответа (ISO 8601), по умолчанию текущее')
    .action(async (opts: { now?: string }) => {
      const now = opts.now === undefined ? new Date() : new Date(opts.now);
      if (Number.isNaN(now.getTime()))
        throw new OtklikError('VALIDATION_FAILED', `--now: not an ISO 8601 instant: ${opts.now}`);
      const raw = await readStdin();
      const ctx = createCliContext();
      try {
        const link = answerLinkOptions(ctx.config, ctx.log);
        const result = await ingestAgencyReply(await ctx.store(), raw, { secret: link?.secret, now });
        const draft = result.draft
          ? `; черновик ответа в базе знаний: ${result.draft.intentId} v${result.draft.version}`
          : '';
        process.stdout.write(
          `Ответ ведомства ${result.agencyId} на обращение № ${result.inquiryId} записан (${result.matchedBy})${draft}\n`,
        );
      } catch (err) {
        // Whatever went wrong, the message is kept before the MTA hears the failure.
        const dir = resolve(ctx.config.mail.unmatchedDir ?? join(ctx.config.dataDir, 'unmatched-mail'));
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const file = join(
          dir,
          `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`,
        );
        writeFileSync(file, raw, { mode: 0o600 });
        const message = isOtklikError(err) ? err.message : (err as Error).message;
        process.stderr.write(`otklik: ${message}\notklik: письмо сохранено: ${file}\n`);
        process.exitCode = isOtklikError(err, 'NOT_FOUND') ? 67 : 65;
      } finally {
        await ctx.close();
      }
    });
}
