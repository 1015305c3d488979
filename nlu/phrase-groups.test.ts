import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupPhrases, phraseKey } from './phrase-groups.js';

describe('nlu/phrase-groups: callers’ phrases grouped by wording', () => {
  it('one key for the same words however written', () => {
    assert.equal(phraseKey('Где получить справку о доходах?'), phraseKey('где  получить справку о доходах'));
    assert.equal(phraseKey('ну, э-э'), '');
  });

  it('groups similar wordings, the largest first, labelled by the most frequent text', () => {
    const texts = [
      'где получить справку о доходах мужа',
      'Где получить справку о доходах?',
      'где получить справку о доходах',
      'где получить справку о доходах',
      'как оформить пропуск на завод',
      'как оформить пропуск на завод',
      'погода завтра',
    ];
    const groups = groupPhrases(texts, (t) => t);
    assert.deepEqual(
      groups.map((g) => [g.label, g.count, g.keys.length]),
      [
        ['где получить справку о доходах', 4, 2],
        ['как оформить пропуск на завод', 2, 1],
        ['погода завтра', 1, 1],
      ],
    );
    // A strict threshold keeps the two wordings apart.
    assert.equal(groupPhrases(texts, (t) => t, { threshold: 0.99 }).length, 4);
  });
});
