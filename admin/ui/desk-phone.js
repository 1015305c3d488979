// The desk's acts on a live conversation beyond its text: hold and hang-up of a phone call, the transfer to a
// queue, a colleague or an agency with a briefing for whoever takes it, and the briefings of earlier transfers.
import { api, esc, when } from './lib.js';

const kindRu = { queue: 'в очередь', operator: 'коллеге', agency: 'в ведомство' };

/** The buttons of a phone call: hold / take back, hang up. */
export function phoneControlsHtml() {
  return `<p class="conv-phone inline"><button type="button" class="conv-hold" data-held="false">Удержание</button>
  <button type="button" class="conv-hangup">Завершить звонок</button> <span class="hint conv-held" hidden>Абонент на удержании</span></p>`;
}

/** The transfer form: where to (a chat goes only to a queue), and what to tell the colleague. */
export function transferFormHtml(queues, chat) {
  const kinds = chat ? ['queue'] : ['queue', 'operator', 'agency'];
  return `<form class="conv-transfer"><fieldset><legend>Перевести разговор</legend>
  <label>Куда <select name="kind">${kinds.map((k) => `<option value="${k}">${esc(kindRu[k])}</option>`).join('')}</select></label>
  <label>Получатель <select name="target" required>${optionsHtml(queues)}</select></label>
  <label>Что передать коллеге <textarea name="briefing" rows="2" maxlength="2000" placeholder="Суть вопроса, что уже сделано"></textarea></label>
  <button type="submit">Перевести</button></fieldset></form>`;
}

const optionsHtml = (list) =>
  list.length === 0
    ? '<option value="">— некому перевести —</option>'
    : list.map((t) => `<option value="${esc(t.id)}">${esc(t.name ?? t.id)}</option>`).join('');

/** Earlier transfers of this conversation with their briefings (who passed it on and what they said). */
export function transfersHtml(transfers, names = {}) {
  if (!transfers || transfers.length === 0) return '';
  return `<div class="conv-transfers"><p class="label">Передано коллегой:</p>${transfers
    .map(
      (t) =>
        `<p class="briefing"><b>${esc(names[t.operatorId] ?? t.operatorId ?? '—')}</b> <small>${esc(when(t.at))}${t.toQueue ? `, в очередь ${esc(t.toQueue)}` : ''}</small>: ${t.briefing ? esc(t.briefing) : '<span class="hint">без пояснений</span>'}</p>`,
    )
    .join('')}</div>`;
}

/**
 * Wires the phone buttons and the transfer form of a conversation card. `path(act)` is the conversation's
 * URL for an act, `problem(err)` shows an error, `done()` runs when the conversation left this operator.
 */
export function wirePhone(card, { queues, path, problem, done, reload }) {
  const hold = card.querySelector('.conv-hold');
  hold?.addEventListener('click', async () => {
    const on = hold.dataset.held !== 'true';
    try {
      await api(path('hold'), { method: 'POST', body: JSON.stringify({ on }) });
      hold.dataset.held = String(on);
      hold.textContent = on ? 'Снять с удержания' : 'Удержание';
      card.querySelector('.conv-held').hidden = !on;
      problem(null);
    } catch (err) {
      problem(err);
    }
  });
  card.querySelector('.conv-hangup')?.addEventListener('click', async () => {
    try {
      await api(path('hangup'), { method: 'POST' });
      problem(null);
      for (const b of card.querySelectorAll('.conv-phone button')) b.disabled = true;
      await reload();
    } catch (err) {
      problem(err);
    }
  });
  const form = card.querySelector('.conv-transfer');
  if (!form) return;
  const lists = {
    queue: async () => queues,
    operator: async () => (await api('/api/desk/colleagues')).operators,
    agency: async () => (await api('/api/agencies')).agencies,
  };
  form.elements.kind.addEventListener('change', async () => {
    try {
      form.elements.target.innerHTML = optionsHtml(await lists[form.elements.kind.value]());
      problem(null);
    } catch (err) {
      problem(err);
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = form.elements.kind.value;
    const target = form.elements.target.value;
    if (!target) return;
    const briefing = form.elements.briefing.value.trim();
    const field = { queue: 'queueId', operator: 'operatorId', agency: 'agencyId' }[kind];
    try {
      await api(path('transfer'), {
        method: 'POST',
        body: JSON.stringify({ [field]: target, ...(briefing ? { briefing } : {}) }),
      });
      problem(null);
      await done();
    } catch (err) {
      problem(err);
    }
  });
}
