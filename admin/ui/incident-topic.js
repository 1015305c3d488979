// Incident mode's one form: a supervisor starts an incident together with the question callers will ask about
// it — a topic, an intent with its phrases and the answer's draft. The draft goes to the responsible agency's
// approver at once; the incident stays «ожидает согласования» and goes on the air («объявлено») the moment the
// answer is approved.
import { api, esc, hasRole } from './lib.js';

export const incidentStateRu = {
  awaiting_approval: 'ожидает согласования',
  announced: 'объявлено',
  ended: 'завершено',
};

/** The incident's state as the list shows it. */
export const incidentState = (i) => incidentStateRu[i.state] ?? (i.active ? 'действует' : 'не действует');

/** Renders the form under the incident page's own one (once), for supervisors; `reload` redraws the list. */
export async function showIncidentTopicForm(reload) {
  const root = document.querySelector('#incident-topic-root');
  if (!root) return;
  root.hidden = !hasRole('supervisor', 'admin');
  if (root.hidden || root.querySelector('form')) return;
  root.innerHTML = `<form id="incident-topic-form" class="checklist-form refs-form">
    <h3>Инцидент с новым вопросом и ответом</h3>
    <p class="hint">Тема, вопрос с фразами и ответ создаются одним действием. Ответ уходит на согласование ведомству уполномоченного лица; объявление и ответ начинают действовать сразу после согласования.</p>
    <label>Название инцидента <input name="title" required minlength="3"></label>
    <label>Объявление для звонящих <textarea name="announcement" rows="3" required minlength="10"></textarea></label>
    <label>Уровень инцидента <select name="level"><option value="regional">региональный</option><option value="federal">федеральный</option></select></label>
    <label>Срок, часов <input name="hours" type="number" min="1" value="24"></label>
    <label>Код темы <input name="topicId" required placeholder="например, heating"></label>
    <label>Название темы <input name="topicTitle"></label>
    <label>Уполномоченное лицо темы <select name="agency"></select></label>
    <label>Код вопроса <input name="intentId" required placeholder="например, heating.outage"></label>
    <label>Вопрос <input name="intentTitle" required></label>
    <label>Фразы граждан (по одной в строке) <textarea name="phrases" rows="4" required></textarea></label>
    <label>Ответ для озвучивания <textarea name="speech" rows="3" required></textarea></label>
    <label>Ответ для чата и экрана оператора <textarea name="screen" rows="3" required></textarea></label>
    <label>Комментарий для согласующего <input name="note"></label>
    <div><button type="submit">Отправить ответ на согласование</button></div>
    <p class="error" id="incident-topic-error" role="alert"></p><p id="incident-topic-saved" role="status"></p>
  </form>`;
  const form = root.querySelector('form');
  const f = form.elements;
  const { agencies } = await api('/api/kb/agencies');
  f.agency.innerHTML = `<option value="">— (тема уже есть в базе)</option>${agencies
    .map((a) => `<option value="${esc(a.id)}">${esc(a.name)}</option>`)
    .join('')}`;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const made = await api('/api/incidents/with-topic', {
        method: 'POST',
        body: JSON.stringify({
          title: f.title.value,
          announcement: f.announcement.value,
          level: f.level.value,
          durationHours: Number(f.hours.value),
          topic: { id: f.topicId.value.trim(), title: f.topicTitle.value, agency: f.agency.value || null },
          intent: {
            id: f.intentId.value.trim(),
            title: f.intentTitle.value,
            phrases: f.phrases.value.split('\n'),
          },
          answer: {
            speech: f.speech.value,
            screen: f.screen.value,
            ...(f.note.value ? { note: f.note.value } : {}),
          },
        }),
      });
      form.querySelector('#incident-topic-error').textContent = '';
      form.querySelector('#incident-topic-saved').textContent =
        `Инцидент создан, ответ на вопрос «${f.intentTitle.value}» отправлен на согласование (${made.intentId}@v${made.version})`;
      form.reset();
      await reload();
    } catch (err) {
      form.querySelector('#incident-topic-saved').textContent = '';
      form.querySelector('#incident-topic-error').textContent = err.message;
    }
  });
}
