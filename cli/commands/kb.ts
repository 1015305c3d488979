import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { writeAudit } from '../../admin/audit.js';
import { OtklikError } from '../../core/errors.js';
import { recordKbChange } from '../../kb/revisions.js';
import { ensureSeeded } from '../../kb/seed.js';
import { approvalsOf, exportKb, importKb, readSourceFile } from '../../kb/transfer.js';
import { createCliContext } from '../context.js';

/** Who ran the command, for the audit log: the operating system account (staff logins are the API's). */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** `otklik kb export|import|seed` (../shared/contracts/cli.md). Failures exit non-zero via reportCliError. */
export function register(program: Command): void {
  const kb = program.command('kb').description('база знаний: экспорт, импорт, начальное наполнение');

  kb.command('export')
    .description('выгрузить всю базу знаний в YAML (в stdout или в файл)')
    .option('--out <file>', 'записать в файл вместо stdout')
    .action(async (opts: { out?: string }) => {
      const ctx = createCliContext();
      try {
        const yaml = await exportKb(await ctx.store());
        if (opts.out) {
          try {
            writeFileSync(opts.out, yaml);
          } catch (err) {
            throw new OtklikError('VALIDATION_FAILED', `cannot write ${opts.out}: ${(err as Error).message}`);
          }
          process.stderr.write(`База знаний выгружена в ${opts.out}\n`);
        } else {
          // `kb export | head` closes the pipe early: that is the reader's choice, not a failure.
          process.stdout.on('error', (err: NodeJS.ErrnoException) => {
            if (err.code === 'EPIPE') process.exit(0);
            throw err;
          });
          process.stdout.write(yaml);
        }
      } finally {
        await ctx.close();
      }
    });

  kb.command('import')
    .description('проверить и загрузить YAML-файл базы знаний одной транзакцией')
    .argument('<file>', 'YAML-файл в формате kb export')
    .action(async (file: string) => {
      const ctx = createCliContext();
      try {
        const source = readSourceFile(file);
        // Approved scripts are served to callers at once: the audit log says who loaded them and who approved.
        let approvers: string[] = [];
        const s = await importKb(await ctx.store(), [source], async (tx, doc) => {
          const approved = approvalsOf(doc);
          approvers = [...new Set(approved.map((a) => a.approvedBy))];
          await writeAudit(tx, cliActor(), 'kb.import', file, { approved });
          await recordKbChange(tx, { actor: cliActor(), action: 'kb.import', subject: file });
        });
        process.stdout.write(
          `Импортировано: интентов ${s.intents}, фраз ${s.phrases}, версий ответов ${s.answerVersions}, ` +
            `подсказок ${s.prompts}, дней календаря ${s.calendarDays}, ` +
            (s.checklistItems === null
              ? 'чек-лист оценки не изменён (в файле его нет)\n'
              : `пунктов чек-листа оценки ${s.checklistItems}\n`) +
            (approvers.length > 0 ? `Согласованные версии согласовали: ${approvers.join(', ')}\n` : ''),
        );
      } finally {
        await ctx.close();
      }
    });

  kb.command('seed')
    .description('загрузить учебную базу знаний в пустое хранилище (повторный запуск ничего не меняет)')
    .action(async () => {
      const ctx = createCliContext();
      try {
        const loaded = await ensureSeeded(await ctx.store());
        process.stdout.write(
          loaded ? 'Учебная база знаний загружена.\n' : 'База знаний уже загружена: ничего не изменено.\n',
        );
      } finally {
        await ctx.close();
      }
    });
}
