import { Command } from 'commander';
import { register as registerBackup } from './commands/backup.js';
import { register as registerCall } from './commands/call.js';
import { register as registerKb } from './commands/kb.js';
import { register as registerModels } from './commands/models.js';
import { register as registerNlu } from './commands/nlu.js';
import { register as registerReport } from './commands/report.js';
import { register as registerRetention } from './commands/retention.js';
import { register as registerSpeech } from './commands/speech.js';
import { register as registerTelephony } from './commands/telephony.js';
import { reportCliError } from './context.js';
import { register as registerServe } from './serve.js';

/** The `otklik` command (../shared/contracts/cli.md). Each part registers its own subcommands. */
export function buildProgram(): Command {
  const program = new Command('otklik')
    .description('Otklik — голосовой бот и операторы для линии 122 (on-premises)')
    .version('0.1.0')
    .showHelpAfterError();
  registerServe(program);
  registerKb(program);
  registerNlu(program);
  registerCall(program);
  registerSpeech(program);
  registerModels(program);
  registerTelephony(program);
  registerRetention(program);
  registerReport(program);
  registerBackup(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    reportCliError(err);
  }
}
