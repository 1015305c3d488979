import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/log.js';
import { expectedSizesFor } from '../../models/manifest.js';
import { createVoskEngine, type VoskAsrEngine } from './vosk-engine.js';

export {
  createVoskEngine,
  parseVoskResult,
  recognizerGrammar,
  type VoskAsrEngine,
  type VoskEngineOptions,
  voskGrammar,
} from './vosk-engine.js';
export { loadVoskLibrary, voskLibraryPath } from './vosk-library.js';
export { checkVoskModelDir, VOSK_FETCH_HINT, type VoskModelDirState } from './vosk-model-dir.js';

/**
 * The configured ASR engine. Vosk is the only one today; the model folder comes from
 * config.speech.voskModelPath (VOSK_MODEL_PATH). A missing model is a state, not a start-up failure.
 */
export function createAsrEngine(speech: Config['speech'], log: Logger): VoskAsrEngine {
  return createVoskEngine({
    modelPath: speech.voskModelPath,
    ...(speech.voskLibraryPath ? { libraryPath: speech.voskLibraryPath } : {}),
    log,
    expectedSizes: expectedSizesFor(speech.voskModelPath),
  });
}
