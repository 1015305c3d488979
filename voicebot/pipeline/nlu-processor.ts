/**
 * NLU in the pipeline: a final Transcript becomes an Intent frame (partials pass on for barge-in).
 * The classifier is fetched per utterance, so a retrained model serves from the next turn on.
 */
import type { IntentClassifier } from '../../nlu/types.js';
import { type Frame, makeFrame } from './frames.js';
import type { FrameProcessor } from './pipeline.js';

export class NluProcessor implements FrameProcessor {
  readonly name = 'nlu';
  readonly kinds = ['Transcript'] as const;

  constructor(
    private readonly classifier: () => IntentClassifier,
    private readonly wallClock: () => Date,
  ) {}

  process(frame: Frame, push: (f: Frame) => void): void {
    if (frame.kind !== 'Transcript' || !frame.final) {
      push(frame);
      return;
    }
    const text = frame.text.trim();
    if (!text) return;
    const classification = this.classifier().classify(text, { now: this.wallClock() });
    push(makeFrame('Intent', { classification }, frame.atMs));
  }
}
