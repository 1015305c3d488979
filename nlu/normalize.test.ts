import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalize } from './normalize.js';
import { numberWordsToDigits } from './numbers.js';

describe('normalize', () => {
  it('lower-cases, maps ё to е and drops punctuation', () => {
    assert.equal(normalize('Ребёнку нужна ПРИВИВКА!!! Где?'), 'ребенку нужна прививка где');
  });

  it('removes fillers and forms of address', () => {
    assert.equal(normalize('Алло, девушка, ээ, ну, мне бы к терапевту'), 'мне бы к терапевту');
    assert.equal(normalize('молодой человек скажите пожалуйста где мфц'), 'где мфц');
  });

  it('maps colloquial and ASR spellings to dictionary words', () => {
    assert.equal(normalize('щас чо делать'), 'сейчас что делать');
    assert.equal(normalize('не могу зайти на гос услуги'), 'не могу зайти на госуслуги');
    assert.equal(normalize('записаться в эм эф це'), 'записаться в мфц');
  });

  it('turns number words into digits', () => {
    assert.equal(normalize('на двадцать третьего'), 'на 23');
    assert.equal(normalize('двадцать пятое ноября две тысячи двадцать шестого года'), '25 ноября 2026 года');
    assert.equal(normalize('номер сто двадцать два'), 'номер 122');
    assert.equal(normalize('тысяча девятьсот восемьдесят пятого года рождения'), '1985 года рождения');
    assert.equal(normalize('у меня трое детей'), 'у меня 3 детей');
  });

  it('keeps a dictated phone number as its digit groups', () => {
    assert.equal(
      normalize('восемь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять'),
      '8 912 345 67 89',
    );
    assert.equal(normalize('ноль один два'), '0 1 2');
  });

  it('keeps written dates and times whole', () => {
    assert.equal(normalize('Приём 25.11.2026 в 15:30.'), 'прием 25.11.2026 в 15:30');
  });

  it('drops stuttered repeats but not repeated digits', () => {
    assert.equal(normalize('я я хочу хочу записаться'), 'я хочу записаться');
    assert.equal(normalize('5 5 5'), '5 5 5');
  });

  it('is idempotent', () => {
    for (const s of ['Алло! Двадцать третьего в десять тридцать', 'восемь девятьсот один', 'ёлки']) {
      assert.equal(normalize(normalize(s)), normalize(s));
    }
  });

  it('returns an empty string for fillers only', () => {
    assert.equal(normalize('ээ... ну'), '');
  });

  it('drops a greeting before a question and keeps a greeting said alone', () => {
    assert.equal(normalize('Алло, здравствуйте! Хочу записаться к терапевту'), 'хочу записаться к терапевту');
    assert.equal(normalize('добрый день мне пришла повестка'), 'мне пришла повестка');
    assert.equal(normalize('Здравствуйте, подскажите пожалуйста'), 'здравствуйте подскажите пожалуйста');
    assert.equal(normalize('ээ... алло? ну'), 'алло');
    assert.equal(normalize('алло да'), 'да');
  });
});

describe('numberWordsToDigits', () => {
  const digits = (s: string) => numberWordsToDigits(s.split(' ')).join(' ');

  it('composes hundreds, tens and units', () => {
    assert.equal(digits('девятьсот девяносто девять'), '999');
    assert.equal(digits('сорок два'), '42');
    assert.equal(digits('одиннадцать'), '11');
  });

  it('composes thousands and millions', () => {
    assert.equal(digits('две тысячи двадцать шесть'), '2026');
    assert.equal(digits('тысяча'), '1000');
    assert.equal(digits('три миллиона двести тысяч'), '3200000');
  });

  it('starts a new number when a word cannot extend the current one', () => {
    assert.equal(digits('двадцать тридцать'), '20 30');
    assert.equal(digits('восемь девятьсот'), '8 900');
    assert.equal(digits('пять шесть'), '5 6');
  });

  it('ends a number at an ordinal', () => {
    assert.equal(digits('двадцать пятого ноября'), '25 ноября');
    assert.equal(digits('первое три'), '1 3');
  });
});
