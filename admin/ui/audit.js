// «Журнал действий» (admins and supervisors): the one audit log of the line, newest first, filtered by
// login, the start of the action, the object and a period (dates in this browser's zone, as every time the
// UI shows), a page at a time.
import { $, api, esc, when } from './lib.js';

/** What the actions mean to people; an action not named here is shown by its code. */
const actionRu = {
  login: 'вход',
  'login.failed': 'неудачный вход',
  'login.locked': 'вход заблокирован',
  'user.create': 'создана учётная запись',
  'user.update': 'изменена учётная запись',
  'user.disable': 'учётная запись отключена',
  'user.enable': 'учётная запись включена',
  'user.unlock': 'вход разблокирован',
  'user.reset_password': 'пароль сброшен',
  'answer.draft': 'черновик ответа',
  'answer.submit': 'ответ отправлен на согласование',
  'answer.approve': 'ответ согласован',
  'answer.reject': 'ответ возвращён',
  'answer.retire': 'ответ снят',
  'recording.listen': 'прослушивание записи',
  'incident.start': 'объявлен инцидент',
  'incident.end': 'инцидент завершён',
  'inquiry.list': 'просмотр обращений',
  'inquiry.answer': 'записан ответ на обращение',
  'inquiry.relayed': 'ответ сообщён заявителю',
  'call.score': 'оценка звонка',
  'call.view': 'просмотр звонка',
  'call.list': 'просмотр списка звонков',
  'call.legal_hold': 'звонок на удержании',
  'call.legal_hold_release': 'удержание снято',
  'kb.import': 'загрузка базы знаний',
  'flow.save': 'сценарий сохранён',
  'prompt.save': 'фраза бота сохранена',
  'menu.save': 'меню сохранено',
  'report.export': 'выгрузка отчёта',
  'retention.remove': 'удаление по сроку хранения',
};

/** Prefixes offered in the action field (any start of an action code works). */
const prefixes = [
  'login',
  'user.',
  'answer.',
  'kb.',
  'flow.',
  'recording.',
  'call.',
  'inquiry.',
  'incident.',
  'desk.',
  'report.',
  'retention.',
];

const page = { next: null, query: '' };

function skeleton() {
  $('#audit-root').innerHTML = `<form id="audit-filter" class="panel filters">
  <label>Сотрудник (логин) <input name="login" autocomplete="off"></label>
  <label>Действие <input name="action" list="audit-actions" placeholder="начало кода, например user."></label>
  <datalist id="audit-actions">${prefixes.map((p) => `<option value="${esc(p)}"></option>`).join('')}</datalist>
  <label>Объект <input name="object" placeholder="логин, намерение, звонок…"></label>
  <label>С <input name="from" type="date"></label>
  <label>По <input name="to" type="date"></label>
  <button type="submit">Показать</button> <button type="reset">Сбросить</button>
  <p class="error" role="alert"></p>
</form>
<div class="table-scroll"><table id="audit-table" class="cards-on-phone"><thead><tr><th>Время</th><th>Сотрудник</th><th>Действие</th><th>Объект</th><th>Подробности</th></tr></thead><tbody></tbody></table></div>
<p><button type="button" id="audit-more" hidden>Показать ещё</button></p>`;
  $('#audit-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    search().catch(() => {});
  });
  $('#audit-filter').addEventListener('reset', () => setTimeout(() => search().catch(() => {}), 0));
  $('#audit-more').addEventListener('click', () => more().catch(() => {}));
}

/** A date field (YYYY-MM-DD) as the instant its day starts here; `nextDay` for an inclusive «по». */
function dayStart(value, nextDay = false) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + (nextDay ? 1 : 0)).toISOString();
}

function queryOf(form) {
  const f = new FormData(form);
  const q = new URLSearchParams();
  for (const key of ['login', 'action', 'object']) {
    const v = String(f.get(key) ?? '').trim();
    if (v) q.set(key, v);
  }
  if (f.get('from')) q.set('from', dayStart(String(f.get('from'))));
  if (f.get('to')) q.set('to', dayStart(String(f.get('to')), true));
  return q;
}

function detailsText(details) {
  return Object.entries(details ?? {})
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('; ');
}

function rows(entries) {
  return entries
    .map(
      (e) =>
        `<tr data-id="${e.id}"><td data-label="Время">${esc(when(e.at))}</td><td data-label="Сотрудник">${esc(e.login)}</td><td data-label="Действие">${esc(actionRu[e.action] ?? e.action)}<br><small>${esc(e.action)}</small></td><td data-label="Объект">${esc(e.object ?? '—')}</td><td data-label="Подробности" class="details">${esc(detailsText(e.details))}</td></tr>`,
    )
    .join('');
}

async function fetchPage(before) {
  const q = new URLSearchParams(page.query);
  q.set('limit', '100');
  if (before) q.set('before', String(before));
  const res = await api(`/api/audit?${q}`);
  page.next = res.next;
  $('#audit-more').hidden = !res.next;
  return res.entries;
}

async function search() {
  const form = $('#audit-filter');
  form.querySelector('.error').textContent = '';
  page.query = queryOf(form).toString();
  try {
    const entries = await fetchPage(null);
    $('#audit-table tbody').innerHTML =
      rows(entries) || '<tr><td colspan="5">Записей с такими условиями нет</td></tr>';
  } catch (err) {
    form.querySelector('.error').textContent = err.message;
  }
}

async function more() {
  const entries = await fetchPage(page.next);
  $('#audit-table tbody').insertAdjacentHTML('beforeend', rows(entries));
}

export async function auditPage() {
  if (!$('#audit-table')) skeleton();
  await search();
}
