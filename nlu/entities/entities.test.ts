import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entity } from '../types.js';
import { extractEntities, gazetteerFromVocabulary, snilsChecksumValid } from './index.js';

// Monday, 23 November 2026, 09:00 in Moscow.
const now = new Date('2026-11-23T09:00:00+03:00');
const pick = (entities: Entity[]) => entities.map((e) => [e.type, e.value]);
const extract = (text: string) => pick(extractEntities(text, { now }));

describe('dates', () => {
  it('reads a spoken day and month', () => {
    assert.deepEqual(extract('запишите на двадцать пятое ноября'), [['date', '2026-11-25']]);
    assert.deepEqual(extract('двадцать пятого ноября две тысячи двадцать седьмого года'), [
      ['date', '2027-11-25'],
    ]);
  });

  it('puts a day and month long past into next year', () => {
    assert.deepEqual(extract('на десятое января'), [['date', '2027-01-10']]);
  });

  it('resolves relative days and weekdays against the local date', () => {
    assert.deepEqual(extract('можно завтра'), [['date', '2026-11-24']]);
    assert.deepEqual(extract('а послезавтра'), [['date', '2026-11-25']]);
    assert.deepEqual(extract('запишите в пятницу'), [['date', '2026-11-27']]);
    // Said on a Monday, «в понедельник» is next week's.
    assert.deepEqual(extract('в понедельник'), [['date', '2026-11-30']]);
    assert.deepEqual(extract('через две недели'), [['date', '2026-12-07']]);
    assert.deepEqual(extract('через месяц'), [['date', '2026-12-23']]);
  });

  it('uses the time zone for "today"', () => {
    // 23:30 UTC on the 23rd is already the 24th in Moscow.
    const late = new Date('2026-11-23T23:30:00Z');
    assert.deepEqual(pick(extractEntities('сегодня', { now: late })), [['date', '2026-11-24']]);
  });

  it('reads written dates and «N числа»', () => {
    assert.deepEqual(extract('25.12.2026'), [['date', '2026-12-25']]);
    assert.deepEqual(extract('на 5 числа'), [['date', '2026-12-05']]);
  });

  it('ignores impossible dates', () => {
    assert.deepEqual(extract('тридцать первое февраля'), [['number', 31]]);
  });
});

describe('times', () => {
  it('reads hours and minutes in several spoken forms', () => {
    assert.deepEqual(extract('в десять тридцать'), [['time', '10:30']]);
    assert.deepEqual(extract('в три часа дня'), [['time', '15:00']]);
    assert.deepEqual(extract('к девяти утра'), [['time', '09:00']]);
    assert.deepEqual(extract('в 15:45'), [['time', '15:45']]);
    assert.deepEqual(extract('в полдень'), [['time', '12:00']]);
  });

  it('combines with a date', () => {
    assert.deepEqual(extract('завтра в восемь вечера'), [
      ['date', '2026-11-24'],
      ['time', '20:00'],
    ]);
  });
});

describe('phones, documents and numbers', () => {
  it('joins a dictated phone number', () => {
    const [phone] = extractEntities(
      'мой номер восемь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять',
      { now },
    );
    assert.equal(phone?.type, 'phone');
    assert.equal(phone?.value, '+79123456789');
    assert.equal(phone?.text, '8 912 345 67 89');
  });

  it('reads a written phone number and one without the leading 8', () => {
    assert.deepEqual(extract('+7 (912) 345-67-89'), [['phone', '+79123456789']]);
    assert.deepEqual(extract('девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять'), [
      ['phone', '+79123456789'],
    ]);
  });

  it('recognizes a СНИЛС by keyword or checksum', () => {
    assert.equal(snilsChecksumValid('11223344595'), true);
    assert.equal(snilsChecksumValid('11223344596'), false);
    assert.deepEqual(
      extract('снилс сто двенадцать двести тридцать три четыреста сорок пять девяносто пять'),
      [['snils', '11223344595']],
    );
    assert.deepEqual(extract('112-233-445 95'), [['snils', '11223344595']]);
  });

  it('recognizes a 16-digit ОМС policy number', () => {
    assert.deepEqual(extract('полис омс 1234 5678 9012 3456'), [['oms_policy', '1234567890123456']]);
  });

  it('leaves other numbers as numbers', () => {
    assert.deepEqual(extract('мне сорок пять лет и у меня трое детей'), [
      ['number', 45],
      ['number', 3],
    ]);
  });

  it('reports spans in the normalized text', () => {
    const [e] = extractEntities('Алло, мне 45 лет', { now });
    assert.deepEqual([e?.text, e?.start, e?.end], ['45', 4, 6]);
  });
});

describe('KB names', () => {
  const gazetteer = gazetteerFromVocabulary([
    'Городская поликлиника № 2',
    'Ленинский район',
    'прививка',
    'врач',
    'ЦРБ Заречного района',
    'Сосновка',
  ]);

  it('keeps clinic and district names and leaves out other vocabulary', () => {
    assert.deepEqual(
      gazetteer.map((g) => [g.type, g.name]),
      [
        ['clinic', 'Городская поликлиника № 2'],
        ['clinic', 'ЦРБ Заречного района'],
        ['district', 'Ленинский район'],
        ['district', 'Сосновка'],
      ],
    );
  });

  it('finds inflected names', () => {
    const found = pick(
      extractEntities('живу в сосновке хочу в городской поликлинике номер два в ленинском районе', {
        now,
        gazetteer,
      }),
    );
    assert.deepEqual(found, [
      ['district', 'Сосновка'],
      ['clinic', 'Городская поликлиника № 2'],
      ['district', 'Ленинский район'],
    ]);
  });

  it('does not confuse numbered clinics', () => {
    const found = pick(extractEntities('городская поликлиника 5', { now, gazetteer }));
    assert.deepEqual(found, [['number', 5]]);
  });
});
