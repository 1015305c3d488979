// Pieces the desk's offer and conversation share: the transcript with the bot's intents, entities, answers
// given, the caller's earlier calls and inquiries.
import { channelRu, esc, when } from './lib.js';

const whoRu = { bot: 'Бот', operator: 'Оператор', caller: 'Абонент' };

/** The confidence as a percentage, the way the bot's guesses are read («93 %»). */
export const percent = (c) => (typeof c === 'number' ? `${Math.round(c * 100)} %` : '');

export function transcriptHtml(turns) {
  if (!turns || turns.length === 0) return '<p class="hint">Реплик пока нет</p>';
  return turns
    .map(
      (t) =>
        `<p class="who-${esc(t.who)}"><b>${esc(whoRu[t.who] ?? t.who)}:</b> ${esc(t.text)}${t.intent ? ` <small class="intent">[${esc(t.intent)}${typeof t.confidence === 'number' ? `, ${percent(t.confidence)}` : ''}]</small>` : ''}</p>`,
    )
    .join('');
}

export function intentsHtml(intents) {
  if (!intents || intents.length === 0) return '';
  return `<p class="intents"><span class="label">Намерения:</span> ${intents
    .map((i) => `<span class="chip">${esc(i.intent)} — ${esc(percent(i.confidence))}</span>`)
    .join(' ')}</p>`;
}

export function entitiesHtml(entities) {
  if (!entities || entities.length === 0) return '';
  return `<p class="entities"><span class="label">Сущности:</span> ${entities
    .map(
      (e) =>
        `<span class="chip">${esc(e.type)}: ${esc(e.text ?? e.value)}${e.value && e.value !== e.text ? ` (${esc(e.value)})` : ''}</span>`,
    )
    .join(' ')}</p>`;
}

/** «health.appointment@v3» or 3 → «3». */
const versionOf = (v) => String(v).split('@').pop().replace(/^v/, '');

export function answersHtml(answers) {
  if (!answers || answers.length === 0) return '';
  return `<p class="answers-given"><span class="label">Бот уже ответил:</span> ${answers
    .map(
      (a) =>
        `<span class="chip">${esc(a.title ?? a.intent)} <small>${esc(a.intent)}${a.answerVersion ? `, версия ${esc(versionOf(a.answerVersion))}` : ''}</small></span>`,
    )
    .join(' ')}</p>`;
}

const outcomeRu = {
  answered: 'отвечено ботом',
  escalated: 'передано оператору',
  forwarded: 'переадресовано',
  inquiry: 'обращение',
  emergency: 'экстренная',
  abandoned: 'сброшен в очереди',
  hangup: 'положил трубку',
  operator: 'завершил оператор',
};
const inquiryStatusRu = {
  registered: 'зарегистрировано',
  dispatched: 'передано',
  answered: 'получен ответ',
  closed: 'закрыто',
};

/** Earlier calls and inquiries from the same number: what the citizen already asked. */
export function historyHtml(history) {
  if (!history) return '';
  const calls = (history.calls ?? [])
    .map(
      (c) =>
        `<li>${esc(when(c.startedAt))}, ${esc(channelRu[c.channel] ?? c.channel)}: ${esc(outcomeRu[c.outcome] ?? c.outcome ?? '—')}</li>`,
    )
    .join('');
  const inquiries = (history.inquiries ?? [])
    .map(
      (i) =>
        `<li>№ ${esc(i.number ?? i.id)} от ${esc(when(i.createdAt))} (${esc(inquiryStatusRu[i.status] ?? i.status)}): ${esc(i.question)}</li>`,
    )
    .join('');
  if (!calls && !inquiries) return '<p class="hint">Раньше с этого номера не обращались.</p>';
  return `${calls ? `<h4>Прежние звонки и чаты</h4><ul>${calls}</ul>` : ''}${inquiries ? `<h4>Обращения</h4><ul>${inquiries}</ul>` : ''}`;
}

/** The ring countdown: a circle that empties as the offer's ring timeout runs out. */
export function ringHtml() {
  return `<svg class="ring" viewBox="0 0 44 44" aria-hidden="true"><circle class="ring-bg" cx="22" cy="22" r="18"/><circle class="ring-left" cx="22" cy="22" r="18" stroke-dasharray="113.1" stroke-dashoffset="0" transform="rotate(-90 22 22)"/><text x="22" y="27" text-anchor="middle" class="ring-text"></text></svg>`;
}

/** Moves a ring to `leftMs` of `totalMs`. */
export function setRing(svg, leftMs, totalMs) {
  const left = Math.max(0, leftMs);
  const share = totalMs > 0 ? Math.min(1, left / totalMs) : 0;
  svg.querySelector('.ring-left').setAttribute('stroke-dashoffset', String(113.1 * (1 - share)));
  svg.querySelector('.ring-text').textContent = String(Math.ceil(left / 1000));
  svg.classList.toggle('urgent', left < 5000);
}
