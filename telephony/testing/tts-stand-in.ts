import type { EngineState, TtsChunk, TtsEngine, TtsOptions, TtsVoice } from '../../speech/types.js';

/**
 * A stand-in for the speech engine behind telephony's prompts: every text comes out as 100 ms of silence, and
 * the texts are kept in order, so a test sees exactly what a caller was told without a real synthesizer.
 */
export class RecordingTts implements TtsEngine {
  readonly name = 'recording-stand-in';
  readonly texts: string[] = [];

  state(): EngineState {
    return { status: 'ready' };
  }

  async voices(): Promise<TtsVoice[]> {
    return [];
  }

  async *synthesize(text: string, opts: TtsOptions = {}): AsyncIterable<TtsChunk> {
    this.texts.push(text);
    const sampleRate = opts.sampleRate ?? 8000;
    yield { audio: { samples: new Int16Array(sampleRate / 10), sampleRate }, text, last: true };
  }
}
