/**
 * Shared set-up of the voice-bot call tests: a fresh store (PGlite or PostgreSQL) with the shipped KB
 * seed, the real NLU trained from it, and a runner for the caller scripts in test/scripts/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/log.js';
import { type EngineDeps, openEngineDeps } from '../voicebot/engine-deps.js';
import { type CallerScript, checkExpectations, readCallerScript } from '../voicebot/simulator/script.js';
import { type SimulatedCall, simulateTextCall } from '../voicebot/simulator/text.js';
import { type Backend, openTestDb, type TestDb } from './support/db.js';

export const scriptsDir = new URL('./scripts/', import.meta.url).pathname;

export interface CallTestEnv {
  db: TestDb;
  engine: EngineDeps;
  run(
    name: string,
    patch?: Partial<CallerScript>,
  ): Promise<{ script: CallerScript; call: SimulatedCall; problems: string[] }>;
  close(): Promise<void>;
}

export async function openCallTestEnv(backend: Backend): Promise<CallTestEnv> {
  const db = await openTestDb(backend);
  const modelDir = mkdtempSync(join(tmpdir(), 'otklik-vb-nlu-'));
  const engine = await openEngineDeps(db.sql, silentLogger, { modelDir });
  return {
    db,
    engine,
    async run(name, patch = {}) {
      const script = { ...readCallerScript(join(scriptsDir, `${name}.yaml`)), ...patch };
      const call = await simulateTextCall(script, {
        kb: engine.kb,
        nlu: engine.nlu,
        sql: db.sql,
        log: silentLogger,
      });
      return { script, call, problems: checkExpectations(script, call) };
    },
    async close() {
      await engine.close();
      await db.drop();
      rmSync(modelDir, { recursive: true, force: true });
    },
  };
}
