// «История»: every change of the knowledge base (who, when, what), what it changed against the state before,
// the whole KB as it stood then (YAML), and a restore for editors. A restore is a change too, so it can be undone;
// answer scripts and their approvals are never rewritten by it (kb/revisions.ts).
import { $, api, esc, hasRole, when } from './lib.js';

const sectionRu = {
  region: 'регион',
  timezone: 'часовой пояс',
  inquiry_terms: 'сроки обращений',
  calendar: 'производственный календарь',
  schedules: 'расписания',
  participants: 'участники',
  agencies: 'уполномоченные лица',
  topics: 'темы',
  intents: 'намерения и фразы',
  answers: 'ответы',
  prompts: 'фразы бота',
  menus: 'голосовое меню',
  incidents: 'инциденты',
  flows: 'сценарии',
  vocabulary: 'словарь',
  checklist: 'чек-лист оценки',
  numbers: 'номера линии',
};
// What each audited KB act is called on the page; an act not named here is shown by its code.
const actionRu = {
  'kb.seed': 'загружена учебная база',
  'kb.import': 'импорт файла',
  'kb.restore': 'восстановление версии',
  'prompt.save': 'фраза бота сохранена',
  'prompt.delete': 'фраза бота удалена',
  'menu.save': 'меню сохранено',
  'flow.save': 'сценарий сохранён',
  'answer.draft': 'черновик ответа',
  'answer.update': 'черновик ответа изменён',
  'answer.submit': 'ответ отправлен на согласование',
  'answer.approve': 'ответ согласован',
  'answer.reject': 'ответ возвращён с комментарием',
  'answer.retire': 'ответ снят',
  'incident.start': 'объявлен инцидент',
  'incident.end': 'инцидент завершён',
  'checklist.add': 'пункт чек-листа добавлен',
  'checklist.set': 'пункт чек-листа изменён',
  'checklist.import': 'чек-лист загружен',
};

const list = (label, ids) =>
  ids.length ? `<li><b>${label}:</b> ${ids.map((i) => `<code>${esc(i)}</code>`).join(', ')}</li>` : '';

function changesHtml(changes) {
  if (changes.length === 0) return '<p>Изменений нет (первая версия или то же состояние).</p>';
  return changes
    .map(
      (c) =>
        `<div class="history-section"><h4>${esc(sectionRu[c.section] ?? c.section)}</h4><ul>${list('добавлено', c.added)}${list('удалено', c.removed)}${list('изменено', c.changed)}</ul></div>`,
    )
    .join('');
}

function layout(root) {
  root.innerHTML = `<p class="hint">Каждое изменение базы знаний сохраняется целиком. Выберите версию, чтобы увидеть, что изменилось, и при необходимости восстановить её. Восстановление не меняет ответы и их согласование.</p>
    <form id="history-filter" class="filters">
      <label>Сотрудник <input name="actor" placeholder="логин"></label>
      <label>Поиск <input name="search" placeholder="действие или объект"></label>
      <button type="submit">Показать</button>
    </form>
    <p class="error" id="history-error" role="alert"></p><p id="history-status" role="status"></p>
    <div class="history">
      <div class="table-scroll"><table id="history-table"><thead><tr><th>№</th><th>Когда</th><th>Кто</th><th>Что</th></tr></thead><tbody></tbody></table></div>
      <div id="history-detail"></div>
    </div>
    <button type="button" id="history-more" hidden>Показать более ранние</button>`;
}

async function showDetail(id) {
  const box = $('#history-detail');
  const d = await api(`/api/kb/revisions/${id}`);
  const r = d.revision;
  const against = d.against ? `с версией №${d.against.id} от ${esc(when(d.against.at))}` : 'с пустой базой';
  box.innerHTML = `<h3>Версия №${r.id}</h3>
    <p>${esc(when(r.at))}, <b>${esc(r.actor)}</b>: ${esc(actionRu[r.action] ?? r.action)}${r.subject ? ` <code>${esc(r.subject)}</code>` : ''}</p>
    <h4>Что изменилось (сравнение ${against})</h4>${changesHtml(d.changes)}
    <details><summary>База знаний целиком в этой версии (YAML)</summary><pre class="yaml">${esc(d.yaml)}</pre></details>
    ${hasRole('editor', 'admin') ? `<button type="button" id="history-restore" data-id="${r.id}">Восстановить версию №${r.id}</button>` : ''}`;
  const restore = $('#history-restore');
  restore?.addEventListener('click', async () => {
    if (
      !confirm(`Восстановить базу знаний в состоянии версии №${r.id}? Ответы и их согласование не изменятся.`)
    )
      return;
    try {
      const { revision } = await api(`/api/kb/revisions/${r.id}/restore`, { method: 'POST', body: '{}' });
      $('#history-error').textContent = '';
      $('#history-status').textContent = `Версия №${r.id} восстановлена (новая версия №${revision}).`;
      await historyPage();
    } catch (err) {
      $('#history-error').textContent = err.message;
    }
  });
}

let filter = {};

async function load(before) {
  const q = new URLSearchParams({ limit: '50' });
  if (filter.actor) q.set('actor', filter.actor);
  if (filter.search) q.set('search', filter.search);
  if (before) q.set('before', String(before));
  const { revisions } = await api(`/api/kb/revisions?${q}`);
  const rows = revisions
    .map(
      (r) =>
        `<tr class="clickable" data-id="${r.id}" tabindex="0"><td>${r.id}</td><td>${esc(when(r.at))}</td><td>${esc(r.actor)}</td><td>${esc(actionRu[r.action] ?? r.action)}${r.subject ? ` <code>${esc(r.subject)}</code>` : ''}</td></tr>`,
    )
    .join('');
  const body = $('#history-table tbody');
  if (before) body.insertAdjacentHTML('beforeend', rows);
  else body.innerHTML = rows || '<tr><td colspan="4">Изменений нет</td></tr>';
  const more = $('#history-more');
  more.hidden = revisions.length < 50;
  more.onclick = () => load(revisions.at(-1)?.id);
  for (const tr of body.querySelectorAll('tr.clickable')) {
    const open = () => {
      for (const x of body.querySelectorAll('tr.selected')) x.classList.remove('selected');
      tr.classList.add('selected');
      showDetail(tr.dataset.id).catch((err) => {
        $('#history-error').textContent = err.message;
      });
    };
    tr.onclick = open;
    tr.onkeydown = (e) => e.key === 'Enter' && open();
  }
}

export async function historyPage() {
  const root = $('#history-root');
  if (!root.querySelector('#history-table')) {
    layout(root);
    $('#history-filter').addEventListener('submit', (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      filter = {
        actor: String(form.get('actor') ?? '').trim(),
        search: String(form.get('search') ?? '').trim(),
      };
      load().catch((err) => {
        $('#history-error').textContent = err.message;
      });
    });
  }
  $('#history-detail').innerHTML = '';
  await load();
}
