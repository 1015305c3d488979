/**
 * `otklik retention run [--dry-run] [--json] [--now ISO]`: the retention job (admin/jobs/retention.ts) once,
 * now: personal data past its kind's period is removed and the audit log says what went. `--dry-run` changes
 * nothing and prints what would go; `--now` runs it as of another instant (a check of the periods).
 */
import type { Command } from 'commander';
import {
  type RetentionKindResult,
  type RetentionReport,
  retentionPolicy,
  runRetention,
} from '../../admin/jobs/retention.js';
import { OtklikError } from '../../core/errors.js';
import { createCliContext } from '../context.js';

const kindRu: Record<RetentionKindResult['kind'], string> = {
  recordings: 'записи разговоров',
  transcripts: 'расшифровки звонков',
  chats: 'переписка в чате',
  callerNumbers: 'номера телефонов граждан',
};

const tableRu: Record<string, string> = {
  telephony_recordings: 'записей',
  call_turns: 'реплик',
  telephony_queue_calls: 'в очереди операторов',
  calls: 'в карточках звонков',
  telephony_callbacks: 'в обратных звонках',
  inquiries: 'в обращениях',
};

export function formatRetention(r: RetentionReport): string {
  const lines = [
    r.dryRun
      ? `Пробный запуск на ${r.now.toISOString()}: ничего не удалено. Было бы удалено:`
      : `Удалены персональные данные с истёкшим сроком хранения на ${r.now.toISOString()}:`,
  ];
  for (const k of r.kinds) {
    if (k.days === null) {
      lines.push(`  ${kindRu[k.kind]}: хранятся бессрочно (срок 0)`);
      continue;
    }
    const parts = k.tables.map((t) => {
      const files = t.counts.files !== undefined ? `, файлов ${t.counts.files}` : '';
      return `${tableRu[t.table] ?? t.table}: ${t.rows}${files}`;
    });
    lines.push(
      `  ${kindRu[k.kind]} (срок ${k.days} дн., до ${k.before!.toISOString().slice(0, 10)}): звонков ${k.callIds.length}; ${parts.join('; ')}`,
    );
  }
  lines.push(`  звонков на удержании для суда или проверки: ${r.held} — их данные не тронуты`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  const cmd = program
    .command('retention')
    .description(
      'сроки хранения персональных данных (152-ФЗ): удаление устаревших записей, расшифровок, номеров',
    );
  cmd
    .command('run')
    .description('удалить персональные данные с истёкшим сроком хранения (как фоновая задача)')
    .option('--dry-run', 'ничего не удалять, только показать, что было бы удалено')
    .option('--json', 'вывести один JSON-объект')
    .option('--now <iso>', 'считать сроки от этого момента (ISO 8601), а не от текущего')
    .action(async (opts: { dryRun?: boolean; json?: boolean; now?: string }) => {
      const now = opts.now === undefined ? new Date() : new Date(opts.now);
      if (Number.isNaN(now.getTime()))
        throw new OtklikError('VALIDATION_FAILED', `--now: not an ISO 8601 instant: ${opts.now}`);
      const ctx = createCliContext();
      try {
        const report = await runRetention(await ctx.store(), retentionPolicy(ctx.config.retention), {
          now,
          dryRun: opts.dryRun ?? false,
          source: 'cli',
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatRetention(report));
      } finally {
        await ctx.close();
      }
    });
}
