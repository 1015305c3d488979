/**
 * Shared set-up of the voice-bot call tests: a fresh store (PGlite or PostgreSQL) with the shipped KB
 * seed, the real NLU trained from it, and a runner for the caller scripts in test/scripts/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/log.js';
import type { Sql } from '../store/sql.js';
import { OperatorQueue } from '../telephony/queue.js';
import type { TextLeg } from '../voicebot/channels/text/text-leg.js';
import { type DialogKnowledge, openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { type CallResult, CallSession, type SessionDeps, startSession } from '../voicebot/session.js';
import { type CallerScript, checkExpectations, readCallerScript } from '../voicebot/simulator/script.js';
import { type SimulatedCall, type SimulatorDeps, simulateTextCall } from '../voicebot/simulator/text.js';
import { type Backend, openTestDb, type TestDb } from './support/db.js';

export const scriptsDir = new URL('./scripts/', import.meta.url).pathname;

/** A test line's setting: the operator queue's wait norm (QUEUE_WAIT_NORM_MS); default 60 s. */
export interface LineSettings {
  queueWaitNormMs?: number;
}

/**
 * The session deps of a test line: the operator queue as the hand-off, as `otklik serve` wires it (with the
 * line's wait norm), unless the test gives a hand-off of its own.
 */
export function onTestLine<T extends { sql: Sql }>({
  queueWaitNormMs = 60_000,
  ...deps
}: T & LineSettings): Omit<T, keyof LineSettings> & { handOff: NonNullable<SessionDeps['handOff']> } {
  return { handOff: new OperatorQueue(deps.sql, { waitNormMs: queueWaitNormMs }), ...deps };
}

export interface CallTestEnv {
  db: TestDb;
  engine: DialogKnowledge;
  run(
    name: string,
    patch?: Partial<CallerScript>,
    deps?: Partial<SimulatorDeps> & LineSettings & { channel?: 'simulator' | 'text' },
  ): Promise<{ script: CallerScript; call: SimulatedCall; problems: string[] }>;
  close(): Promise<void>;
}

export async function openCallTestEnv(backend: Backend): Promise<CallTestEnv> {
  const db = await openTestDb(backend);
  const modelDir = mkdtempSync(join(tmpdir(), 'otklik-vb-nlu-'));
  const engine = await openDialogKnowledge(db.sql, silentLogger, { modelDir });
  return {
    db,
    engine,
    async run(name, patch = {}, deps = {}) {
      const script = { ...readCallerScript(join(scriptsDir, `${name}.yaml`)), ...patch };
      const call = await simulateTextCall(
        script,
        onTestLine({ kb: engine.kb, nlu: engine.nlu, sql: db.sql, log: silentLogger, ...deps }),
      );
      return { script, call, problems: checkExpectations(script, call) };
    },
    async close() {
      await engine.close();
      await db.drop();
      rmSync(modelDir, { recursive: true, force: true });
    },
  };
}

export type CallerInput = { say: string } | { dtmf: string } | { silence_ms: number } | { hangup: true };

/**
 * Runs a call session on a text leg the test built (its metadata included: an outbound callback carries its
 * flow and inquiry in `extra`), feeding the caller's inputs one at a time whenever the bot listens. After
 * the inputs the caller stays silent, so the flow runs its no-input branches to the end.
 */
export async function runTextLeg(
  leg: TextLeg,
  deps: SessionDeps & LineSettings,
  inputs: CallerInput[] = [],
): Promise<CallResult> {
  const session = new CallSession(leg, { ...onTestLine(deps), mode: 'text' });
  const running = startSession(session);
  const ended = () => running.finished || leg.ended || Boolean(session.dialog?.ended);
  for (const input of inputs) {
    await running.botTurnOver();
    if (ended()) break;
    if ('say' in input) leg.callerSays(input.say);
    else if ('dtmf' in input) leg.callerPresses(input.dtmf);
    else if ('silence_ms' in input) session.callerSilence(input.silence_ms);
    else leg.callerHangsUp();
  }
  for (let i = 0; i < 10; i++) {
    await running.botTurnOver();
    if (ended()) break;
    session.callerSilence(60_000);
  }
  // Stop only a session still listening: one that ended by itself is closing the call as the bot's hang-up.
  if (!running.finished && !session.dialog?.ended) session.stop();
  return running.done;
}
