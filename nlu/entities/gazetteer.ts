import { stemToken } from '../features.js';
import { normalize } from '../normalize.js';

/**
 * Names from the knowledge base (clinics, districts) found in an utterance whatever their case ending:
 * both sides are compared as sequences of stems («в поликлинике номер 2» matches «поликлиника номер 2»).
 */

export type GazetteerType = 'clinic' | 'district';

export interface GazetteerEntry {
  type: GazetteerType;
  name: string;
  stems: string[];
}

export interface GazetteerMatch {
  type: GazetteerType;
  start: number;
  end: number;
  value: string;
}

/** Digits compare literally here: «поликлиника 2» is not «поликлиника 5». */
const key = (token: string): string => (/^\d/.test(token) ? token : stemToken(token));

const clinicWords =
  /поликлиник|больниц|амбулатор|фап|фельдшер|медицинск|госпитал|диспансер|центр(?=\s|$)|гбуз|крб|црб|роддом|родильн|травмпункт|стоматолог|санчаст/;
const districtWords = /район|округ|поселени|поселок|село|город|микрорайон|мкр|станица|деревн/;
/** A one-word settlement name («Сосновка», «Верхнеэнск», «Приозерный») by its typical ending. */
const settlement = /^[а-я]+(?:ск|овка|евка|ово|ево|ино|ный|ное)$/;

/**
 * Sorts KB vocabulary into clinic and district names by their words (districts include one-word
 * settlement names); topic words and other hints that are neither are left out (the classifier reads them).
 */
export function gazetteerFromVocabulary(vocabulary: string[]): GazetteerEntry[] {
  const entries: GazetteerEntry[] = [];
  for (const name of vocabulary) {
    const norm = normalize(name);
    const type: GazetteerType | null = clinicWords.test(norm)
      ? 'clinic'
      : districtWords.test(norm) || settlement.test(norm)
        ? 'district'
        : null;
    if (!type || norm.length === 0) continue;
    entries.push({
      type,
      name,
      stems: norm
        .split(' ')
        .filter((t) => t !== 'номер')
        .map(key),
    });
  }
  // Longer names first, so «городская поликлиника 2» wins over «поликлиника».
  return entries.sort((a, b) => b.stems.length - a.stems.length || a.name.localeCompare(b.name));
}

export function findGazetteer(
  text: string,
  entries: GazetteerEntry[],
  taken: (start: number, end: number) => boolean,
): GazetteerMatch[] {
  if (entries.length === 0) return [];
  const tokens = [...text.matchAll(/\S+/g)]
    .filter((m) => m[0] !== 'номер')
    .map((m) => ({
      stem: key(m[0]),
      start: m.index,
      end: m.index + m[0].length,
    }));
  const out: GazetteerMatch[] = [];
  const used = new Set<number>();
  for (const entry of entries) {
    const n = entry.stems.length;
    for (let i = 0; i + n <= tokens.length; i++) {
      let same = true;
      for (let j = 0; j < n && same; j++) same = !used.has(i + j) && tokens[i + j]!.stem === entry.stems[j];
      if (!same) continue;
      const start = tokens[i]!.start;
      const end = tokens[i + n - 1]!.end;
      if (taken(start, end)) continue;
      for (let j = 0; j < n; j++) used.add(i + j);
      out.push({ type: entry.type, start, end, value: entry.name });
    }
  }
  return out;
}
