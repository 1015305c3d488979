import { Command } from 'commander';
import { register as registerKb } from '../kb/cli.js';
import { register as registerModels } from '../models/cli.js';
import { register as registerNlu } from '../nlu/cli.js';
import { register as registerTelephony } from '../telephony/cli.js';
import { register as registerCall } from '../voicebot/cli.js';
import { register as registerSpeech } from '../voicebot/speech/cli.js';
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
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    reportCliError(err);
  }
}
