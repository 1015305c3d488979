import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Frame } from './frames.js';
import { makeFrame } from './frames.js';
import { type FrameProcessor, Pipeline } from './pipeline.js';

const transcript = (text: string): Frame => makeFrame('Transcript', { text, final: true, confidence: 1 }, 0);

describe('Pipeline', () => {
  it('passes frames a processor does not handle on, in order', async () => {
    const seen: string[] = [];
    const upper: FrameProcessor = {
      name: 'upper',
      kinds: ['Transcript'],
      process(frame, push) {
        if (frame.kind === 'Transcript') push({ ...frame, text: frame.text.toUpperCase() });
      },
    };
    const out: Frame[] = [];
    const p = new Pipeline([upper], { onOutput: (f) => out.push(f) });
    p.push(transcript('да'));
    p.push(makeFrame('Dtmf', { digit: '1' }, 0));
    p.push(transcript('нет'));
    await p.idle();
    for (const f of out) seen.push(f.kind === 'Transcript' ? f.text : f.kind);
    assert.deepEqual(seen, ['ДА', 'Dtmf', 'НЕТ']);
  });

  it('lets control frames overtake queued data and drops interruptible speech', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const controls: string[] = [];
    const slow: FrameProcessor = {
      name: 'slow',
      async process(frame, push) {
        if (frame.kind === 'BotSay' && frame.utteranceId === 'u1') await gate;
        push(frame);
      },
      onControl(frame) {
        controls.push(frame.kind);
      },
    };
    const out: string[] = [];
    const p = new Pipeline([slow], {
      onOutput: (f) => out.push(f.kind === 'BotSay' ? f.utteranceId : f.kind),
    });
    const say = (id: string, bargeIn: boolean) =>
      makeFrame('BotSay', { text: id, utteranceId: id, bargeIn }, 0);
    p.push(say('u1', true));
    p.push(say('u2', true));
    p.push(say('u3', false));
    p.push(makeFrame('Interrupt', { reason: 'speech' }, 0));
    assert.deepEqual(controls, ['Interrupt']);
    release();
    await p.idle();
    assert.deepEqual(out, ['u1', 'Interrupt', 'u3']);
  });

  it('turns a processor failure into an Error frame and keeps going', async () => {
    const failing: FrameProcessor = {
      name: 'failing',
      kinds: ['Dtmf'],
      process() {
        throw new Error('boom');
      },
    };
    const out: Frame[] = [];
    const p = new Pipeline([failing], { onOutput: (f) => out.push(f) });
    p.push(makeFrame('Dtmf', { digit: '5' }, 0));
    p.push(transcript('ещё'));
    await p.idle();
    assert.equal(out[0]?.kind, 'Error');
    assert.equal(out[0]?.kind === 'Error' && out[0].source, 'failing');
    assert.equal(out[1]?.kind, 'Transcript');
  });

  it('sends frames upstream to earlier processors and out of the head', async () => {
    const seenByFirst: string[] = [];
    const first: FrameProcessor = {
      name: 'first',
      kinds: ['BotSayDone'],
      process(frame, push, ctx) {
        seenByFirst.push(`${frame.kind}:${ctx.direction}`);
        push(frame);
      },
    };
    const last: FrameProcessor = {
      name: 'last',
      kinds: ['BotSay'],
      process(frame, _push, ctx) {
        if (frame.kind === 'BotSay')
          ctx.pushUpstream(makeFrame('BotSayDone', { utteranceId: frame.utteranceId }, ctx.now()));
      },
    };
    const up: Frame[] = [];
    const p = new Pipeline([first, last], { onUpstreamOutput: (f) => up.push(f) });
    p.pushTo('last', makeFrame('BotSay', { text: 'x', utteranceId: 'u9', bargeIn: false }, 0));
    await p.idle();
    assert.deepEqual(seenByFirst, ['BotSayDone:upstream']);
    assert.equal(up[0]?.kind === 'BotSayDone' && up[0].utteranceId, 'u9');
  });
});
