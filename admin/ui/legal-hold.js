// The call card's legal hold (for a court or an inspection) and what the retention job already removed of the
// call (152-FZ). A supervisor puts the hold with its reason and releases it; both are audited by the API
// (admin/plugins/calls.ts). While the hold stands, the retention job removes nothing of the call.
import { api, esc, hasRole, when } from './lib.js';

/** Notes on what retention removed; empty when nothing was. */
function removedText(call) {
  const r = call.retention ?? {};
  const notes = [];
  if (r.transcriptRemovedAt)
    notes.push(`Расшифровка и заметка удалены по сроку хранения ${when(r.transcriptRemovedAt)}.`);
  if (r.callerNumberRemovedAt)
    notes.push(`Номер телефона удалён по сроку хранения ${when(r.callerNumberRemovedAt)}.`);
  return notes.map((n) => `<p class="retention-removed">${esc(n)}</p>`).join('');
}

function holdHtml(call) {
  const hold = call.legalHold;
  const status = hold
    ? `<p class="hold-on"><b>На удержании для суда или проверки</b> с ${esc(when(hold.at))} (${esc(hold.by)}): ${esc(hold.reason)}. Что осталось от звонка (запись, расшифровка, номер), по сроку хранения не удаляется.</p>`
    : '<p class="hold-off">Удержание для суда или проверки не установлено: данные звонка удаляются по сроку хранения.</p>';
  if (!hasRole('supervisor', 'admin')) return status;
  const action = hold ? 'Снять удержание' : 'Поставить на удержание';
  const label = hold ? 'Основание снятия удержания' : 'Основание удержания (запрос суда, проверка)';
  return `${status}<form class="legal-hold-form inline"><label>${label} <textarea name="reason" rows="2" minlength="3" maxlength="500" required></textarea></label><button type="submit">${action}</button></form><p class="error" role="alert"></p>`;
}

/** Draws the hold block of a call card into `box`, and redraws it after each change. */
export function showLegalHold(box, call) {
  box.innerHTML = `<h4>Хранение данных</h4>${removedText(call)}${holdHtml(call)}`;
  const form = box.querySelector('form.legal-hold-form');
  if (!form) return;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = String(new FormData(form).get('reason') ?? '').trim();
    const path = `/api/calls/${encodeURIComponent(call.id)}/legal-hold${call.legalHold ? '/release' : ''}`;
    try {
      const { legalHold } = await api(path, { method: 'POST', body: JSON.stringify({ reason }) });
      showLegalHold(box, { ...call, legalHold });
    } catch (err) {
      box.querySelector('.error').textContent = err.message;
    }
  });
}
