import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeForSpeech } from './normalize.js';
import { cardinal, ordinal, plural } from './numbers.js';
import { splitSentences } from './sentences.js';

describe('Russian number words', () => {
  it('says cardinals with gender and case', () => {
    assert.equal(cardinal(2026), 'две тысячи двадцать шесть');
    assert.equal(cardinal(1000), 'тысяча');
    assert.equal(cardinal(21, 'f'), 'двадцать одна');
    assert.equal(cardinal(18, 'm', 'gen'), 'восемнадцати');
    assert.equal(cardinal(1_250_000), 'один миллион двести пятьдесят тысяч');
    assert.equal(cardinal(0), 'ноль');
  });

  it('says ordinals for dates and years', () => {
    assert.equal(ordinal(1, 'nom_n'), 'первое');
    assert.equal(ordinal(3, 'gen_m'), 'третьего');
    assert.equal(ordinal(2026, 'gen_m'), 'две тысячи двадцать шестого');
    assert.equal(ordinal(2000, 'gen_m'), 'двухтысячного');
    assert.equal(ordinal(1990, 'prep_m'), 'тысяча девятьсот девяностом');
  });

  it('agrees nouns with counts', () => {
    assert.deepEqual(
      [1, 2, 5, 11, 21, 24, 112].map((n) => plural(n, ['час', 'часа', 'часов'])),
      ['час', 'часа', 'часов', 'часов', 'час', 'часа', 'часов'],
    );
  });
});

describe('text normalization for speech', () => {
  const cases: [string, string][] = [
    ['МФЦ работает с 9:00 до 18:00.', 'эм эф цэ работает с девяти до восемнадцати часов.'],
    [
      'Приём 10:00–14:00, перерыв с 13:00 до 13:45.',
      'Приём с десяти до четырнадцати часов, перерыв с тринадцати до тринадцати сорока пяти.',
    ],
    ['Звоните до 17:00.', 'Звоните до семнадцати часов.'],
    ['Начало в 9:30.', 'Начало в девять тридцать.'],
    ['Запись открыта до 01.12.2026.', 'Запись открыта до первого декабря две тысячи двадцать шестого года.'],
    ['Выплаты начнутся 1 февраля.', 'Выплаты начнутся первое февраля.'],
    ['В 2027 году правила изменятся.', 'В две тысячи двадцать седьмом году правила изменятся.'],
    [
      'Телефон +7 (900) 123-45-67.',
      'Телефон плюс семь, девятьсот, сто двадцать три, сорок пять, шестьдесят семь.',
    ],
    ['Горячая линия 8-800-200-01-22.', 'Горячая линия восемь, восемьсот, двести, ноль один, двадцать два.'],
    ['Нужны СНИЛС и полис ОМС.', 'Нужны снилс и полис о эм эс.'],
    [
      'Участникам СВО, жителям ДНР и ЛНР: льготы по ЖКУ.',
      'Участникам эс вэ о, жителям дэ эн эр и эл эн эр: льготы по жэ ка у.',
    ],
    ['Скидка 50% на 1 справку.', 'Скидка пятьдесят процентов на одну справку.'],
    ['Срок 5 рабочих дней.', 'Срок пять рабочих дней.'],
    ['Экстренный номер 112.', 'Экстренный номер сто двенадцать.'],
    ['Сайт gosuslugi.ru — «Госуслуги».', 'Сайт госуслуги точка ру, Госуслуги.'],
    ['Кабинет № 12, т.е. второй этаж.', 'Кабинет номер двенадцать, то есть второй этаж.'],
    ['Приём с 9 до 18 часов.', 'Приём с девяти до восемнадцати часов.'],
    ['Ответ до 5 рабочих дней.', 'Ответ до пяти рабочих дней.'],
    ['Для детей от 3 лет, дети с 2 лет.', 'Для детей от трёх лет, дети с двух лет.'],
    ['Более 50% заявок.', 'Более пятидесяти процентов заявок.'],
    ['Пошлина до 100 рублей.', 'Пошлина до ста рублей.'],
  ];
  for (const [written, spoken] of cases) {
    it(`«${written}»`, () => assert.equal(normalizeForSpeech(written), spoken));
  }

  it('leaves no digits and no Latin letters behind', () => {
    const text = normalizeForSpeech(
      'С 8:30 до 20:00 по адресу ул. Ленина, 15; код 0042; WiFi; 3,5 тыс.; 10 000 человек.',
    );
    assert.doesNotMatch(text, /[0-9A-Za-z]/);
    assert.match(text, /десять тысяч человек/);
  });
});

describe('sentence splitting', () => {
  it('splits at sentence ends but not after abbreviations or inside dates', () => {
    assert.deepEqual(
      splitSentences('Здравствуйте! Адрес: ул. Ленина, д. 5. Приём до 01.12.2026. Вопросы? Звоните.'),
      ['Здравствуйте!', 'Адрес: ул. Ленина, д. 5.', 'Приём до 01.12.2026.', 'Вопросы?', 'Звоните.'],
    );
  });

  it('cuts a long sentence at a comma so the first audio comes early', () => {
    const long = `${'Первая часть предложения, '.repeat(12)}конец.`;
    const pieces = splitSentences(long, { maxChars: 120 });
    assert.ok(pieces.length > 1);
    assert.ok(pieces.every((p) => p.length <= 120));
    assert.equal(pieces.join(' '), long);
  });

  it('drops empty pieces', () => {
    assert.deepEqual(splitSentences('  ...  '), []);
  });
});
