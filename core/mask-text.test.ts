import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskPersonalText } from './mask-text.js';

describe('core/mask-text: personal data in a caller’s words', () => {
  it('masks numbers of three digits or more, written or spoken, and keeps short ones', () => {
    assert.equal(maskPersonalText('мой номер +7 914 555-00-11, перезвоните'), 'мой номер ***, перезвоните');
    assert.equal(maskPersonalText('снилс один два три четыре пять'), 'снилс ***');
    assert.equal(maskPersonalText('приём в 10 часов'), 'приём в 10 часов');
  });

  it('masks names after a cue and capitalized pairs, not a lone capitalized word', () => {
    assert.equal(
      maskPersonalText('меня зовут Иванова Мария Петровна, хочу записаться'),
      'меня зовут [имя], хочу записаться',
    );
    assert.equal(maskPersonalText('запишите Петрова Ивана к врачу'), 'запишите [имя] к врачу');
    assert.equal(maskPersonalText('меня зовут мария'), 'меня зовут [имя]');
    assert.equal(maskPersonalText('Госуслуги не работают'), 'Госуслуги не работают');
  });
});
