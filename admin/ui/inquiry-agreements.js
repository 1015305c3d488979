// «Обращения»: what a request to several agencies and an agency's extension add to a row (Irkutsk 10.1, 10.3).
import { esc, when } from './lib.js';

const unitRu = { hours: 'часов', calendar_days: 'календарных дней', working_days: 'рабочих дней' };

/** The request number the citizen was told, where the row is one agency's part of it. */
export function requestNote(i) {
  return i.requestId && i.requestId !== i.id ? `<br><small>запрос № ${esc(i.requestId)}</small>` : '';
}

/** The answer's deadline, and that it was extended. */
export function deadlineNote(i) {
  if (i.status !== 'registered' && i.status !== 'dispatched') return '';
  return `<br><small>ответ до ${esc(when(i.answerDueAt))}${i.answerTermAmount ? ' (срок продлён)' : ''}</small>`;
}

/** Buttons of an open row with its agency: pass the question to one more agency; record an extension. */
export function agreementActions(i, agencies) {
  if (!i.agencyId || (i.status !== 'registered' && i.status !== 'dispatched')) return '';
  const options = agencies
    .filter((a) => a.id !== i.agencyId)
    .map((a) => `<option value="${esc(a.id)}">${esc(a.name)}</option>`)
    .join('');
  return `<details class="inquiry-more"><summary>Ещё ведомство</summary><form class="add-agency" data-id="${esc(i.id)}"><label>Уполномоченное лицо <select name="agencyId" required><option value="">— выберите —</option>${options}</select></label><button type="submit">Направить</button></form></details><details class="inquiry-more"><summary>Продлить срок</summary><form class="extend-term" data-id="${esc(i.id)}"><label>На сколько ${esc(unitRu[i.answerTermUnit] ?? '')} <input name="amount" type="number" min="1" max="1000" required></label><label>Причина (со слов ведомства) <textarea name="reason" required></textarea></label><button type="submit">Продлить</button></form></details>`;
}

/** Wires the forms of agreementActions; `action(element, path, body)` posts and redraws. */
export function bindAgreementActions(root, action) {
  for (const form of root.querySelectorAll('form.add-agency')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const agencyId = new FormData(form).get('agencyId');
      await action(form, `/api/inquiries/${form.dataset.id}/agencies`, { agencyId });
    });
  }
  for (const form of root.querySelectorAll('form.extend-term')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      await action(form, `/api/inquiries/${form.dataset.id}/extensions`, {
        amount: Number(data.get('amount')),
        reason: data.get('reason'),
      });
    });
  }
}
