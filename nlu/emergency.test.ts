import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEmergencyCue } from './emergency.js';
import { normalize } from './normalize.js';

const cue = (text: string) => findEmergencyCue(normalize(text));

describe('emergency cues', () => {
  it('finds danger to life anywhere in a long utterance', () => {
    for (const text of [
      'у соседей пожар',
      'алло девушка я хотела про пособие спросить а тут муж упал и не дышит',
      'человеку плохо с сердцем',
      'ребенок выпал из окна',
      'пахнет газом в подъезде',
      'кровь из раны хлещет не останавливается',
      'я не хочу больше жить',
      'соседа избивают во дворе',
      'тут авария на перекрестке люди пострадали',
      'ребенок наелся таблеток',
      'жена рожает воды отошли',
    ]) {
      assert.ok(cue(text), text);
    }
  });

  it('leaves routine questions alone', () => {
    for (const text of [
      'хочу записаться к кардиологу',
      'где сдать кровь из вены бесплатно',
      'положены ли выплаты пострадавшим переселенцам',
      'как вызвать врача на дом у ребенка температура',
      'он повесил трубку',
    ]) {
      assert.equal(cue(text), null, text);
    }
  });
});
