import { seedSources } from '../../kb/seed.js';
import type { KbSource } from '../../kb/yaml-parse.js';

/**
 * The shipped seed with agreements of its own for some agencies: `terms` maps an agency id to the YAML lines of
 * its `inquiry_terms:` block (indented under the agency), e.g. Yakutia's calendar days for health_hotline.
 */
export function seedWithAgreements(terms: Record<string, string[]>): KbSource[] {
  return seedSources().map((s) => {
    if (!s.name.endsWith('region.yaml')) return s;
    let text = s.text;
    for (const [agency, lines] of Object.entries(terms)) {
      const at = text.indexOf(`  - id: ${agency}\n`);
      if (at < 0) throw new Error(`no agency ${agency} in region.yaml`);
      const end = text.indexOf('\n    schedule:', at);
      const lineEnd = text.indexOf('\n', end + 1);
      const block = ['    inquiry_terms:', ...lines.map((l) => `      ${l}`)].join('\n');
      text = `${text.slice(0, lineEnd + 1)}${block}\n${text.slice(lineEnd + 1)}`;
    }
    return { ...s, text };
  });
}

/** Yakutia's model agreement for health_hotline (3 calendar days, no cut-off, up to 10), hours for the duty. */
export const sampleAgreements = {
  health_hotline: ['answer_unit: calendar_days', 'answer_amount: 3', 'cutoff: null', 'max_amount: 10'],
  commissariat_duty: ['dispatch_minutes: 30', 'answer_unit: hours', 'answer_amount: 24', 'max_amount: 72'],
};
