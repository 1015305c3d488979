/**
 * `otklik call simulate FILE.yaml [--channel text|voice] [--json]` (../shared/contracts/cli.md): runs one
 * scripted call through the real dialog engine, prints the dialogue (or one JSON object), and exits 1
 * when the script's `expect` is not met, saying what differed.
 */
import type { Command } from 'commander';
import { OtklikError } from '../../core/errors.js';
import { createSpeechServices } from '../../speech/services.js';
import { OperatorQueue } from '../../telephony/queue.js';
import { openDialogKnowledge } from '../../voicebot/dialog-knowledge.js';
import {
  checkExpectations,
  readCallerScript,
  type SimulationResult,
} from '../../voicebot/simulator/script.js';
import { type SimulatedCall, type SimulatorDeps, simulateTextCall } from '../../voicebot/simulator/text.js';
import { simulateVoiceCall } from '../../voicebot/simulator/voice.js';
import { createCliContext } from '../context.js';
import { speechClientTls } from '../tls.js';

const whoLabel = { caller: 'абонент', bot: 'бот', operator: 'оператор' } as const;

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${Math.floor((ms % 1000) / 100)}`;
}

export function formatDialogue(result: SimulationResult): string {
  const lines = result.transcript.map((t) => `[${clock(t.at_ms)}] ${whoLabel[t.who]}: ${t.text}`);
  lines.push('', `исход: ${result.outcome}`);
  if (result.intents.length > 0) lines.push(`намерения: ${result.intents.join(', ')}`);
  for (const a of result.answers) lines.push(`ответ: ${a.intent} (${a.answer_version})`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  const call = program.command('call').description('звонки: моделирование разговора с ботом');
  call
    .command('simulate')
    .description('провести сценарий звонка (YAML) через настоящий диалоговый движок')
    .argument('<file>', 'сценарий абонента (contracts/caller-script.md)')
    .option('--channel <channel>', 'text или voice', 'text')
    .option('--json', 'вывести один JSON-объект')
    .action(async (file: string, opts: { channel: string; json?: boolean }) => {
      if (opts.channel !== 'text' && opts.channel !== 'voice') {
        throw new OtklikError(
          'VALIDATION_FAILED',
          `--channel: expected text or voice, got "${opts.channel}"`,
        );
      }
      const script = readCallerScript(file);
      const ctx = createCliContext();
      try {
        const sql = await ctx.store();
        const engine = await openDialogKnowledge(sql, ctx.log, { modelDir: ctx.config.nlu.modelDir });
        try {
          const deps: SimulatorDeps = {
            kb: engine.kb,
            nlu: engine.nlu,
            sql,
            log: ctx.log,
            // An escalated simulation waits in the operator queue as a real call would.
            handOff: new OperatorQueue(sql, { waitNormMs: ctx.config.telephony.queueWaitNormMs }),
          };
          let result: SimulatedCall;
          if (opts.channel === 'voice') {
            const speech = await createSpeechServices(ctx.config, ctx.log, speechClientTls(ctx.config));
            try {
              result = await simulateVoiceCall(script, { ...deps, speech });
            } finally {
              await speech.close();
            }
          } else {
            result = await simulateTextCall(script, deps);
          }
          const output: SimulationResult = {
            outcome: result.outcome,
            intents: result.intents,
            transcript: result.transcript,
            answers: result.answers,
          };
          process.stdout.write(opts.json ? `${JSON.stringify(output)}\n` : formatDialogue(output));
          const problems = checkExpectations(script, output);
          if (problems.length > 0) {
            process.stderr.write(
              `${file}: the call did not go as expected:\n${problems.map((p) => `  ${p}`).join('\n')}\n`,
            );
            process.exitCode = 1;
          }
        } finally {
          await engine.close();
        }
      } finally {
        await ctx.close();
      }
    });
}
