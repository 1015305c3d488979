import type { Logger } from '../../core/log.js';
import type { VadEngine } from '../types.js';
import { SileroVadEngine } from './silero.js';

export { DEFAULT_ENDPOINT, type EndpointOptions, SpeechEndpointer } from './endpointer.js';
export { findSileroModel } from './model.js';
export { type SileroStreamOptions, SileroVadEngine, type SileroVadEngineOptions } from './silero.js';

export interface CreateVadEngineOptions {
  /** A Silero model file; by default the one shipped in the npm packages. */
  modelPath?: string;
  log?: Logger;
}

/**
 * The project's VAD engine. Never throws: with the model file missing the engine reports
 * state() = model_missing with a message saying where it looked, and createStream() rejects with
 * MODEL_MISSING, so the rest of the speech service keeps working.
 */
export function createVadEngine(opts: CreateVadEngineOptions = {}): VadEngine & { load(): Promise<void> } {
  const engine = new SileroVadEngine(opts);
  const state = engine.state();
  if (state.status !== 'ready') opts.log?.warn({ engine: engine.name }, state.message);
  return engine;
}
