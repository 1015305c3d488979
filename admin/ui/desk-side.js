// Beside the desk's conversation: the topic's approved scripts (searchable) and the callbacks
// (H6's GET /api/desk/callbacks: shown when the route answers).
import { api, esc, topicTitles, when } from './lib.js';

const side = { box: null, openCallId: () => null, topicTouched: false, timer: null, noCallbacks: false };

const callbackStateRu = {
  pending: 'ожидает',
  scheduled: 'назначен',
  dialling: 'идёт набор',
  done: 'выполнен',
  failed: 'не удался',
  cancelled: 'отменён',
};
const callbackSourceRu = {
  caller: 'просьба звонившего',
  queue: 'долгое ожидание',
  inquiry: 'по обращению',
  operator: 'назначил оператор',
};

export async function renderSide(box, openCallId) {
  side.box = box;
  side.openCallId = openCallId;
  const topics = await topicTitles();
  box.innerHTML = `<div class="panel scripts">
  <h3>Скрипты ответов</h3>
  <label>Поиск <input type="search" name="q" placeholder="слово из скрипта" aria-label="Поиск по скриптам"></label>
  <label>Тема <select name="topic"><option value="">все темы</option>${Object.entries(topics)
    .map(([id, title]) => `<option value="${esc(id)}">${esc(title)}</option>`)
    .join('')}</select></label>
  <div class="scripts-list"></div>
</div>
<div class="panel callbacks" hidden>
  <h3>Обратные звонки</h3>
  <div class="table-scroll"><table class="callbacks-table"><thead><tr><th>Когда</th><th>Телефон</th><th>Тема</th><th>Состояние</th></tr></thead><tbody></tbody></table></div>
  <form class="callback-form"><h4>Назначить обратный звонок</h4>
    <label>Телефон <input name="phone" type="tel" required placeholder="+7…"></label>
    <label>Когда <input name="dueAt" type="datetime-local"></label>
    <label>Заметка <input name="note" maxlength="1000"></label>
    <button type="submit">Назначить</button>
    <p class="error" role="alert"></p></form>
</div>`;
  const q = box.querySelector('input[name="q"]');
  q.addEventListener('input', () => {
    clearTimeout(side.timer);
    side.timer = setTimeout(loadScripts, 250);
  });
  box.querySelector('select[name="topic"]').addEventListener('change', () => {
    side.topicTouched = true;
    loadScripts();
  });
  box.querySelector('.callback-form').addEventListener('submit', scheduleCallback);
  await loadScripts();
}

/** The topic of the offer or conversation at hand, unless the operator chose one. */
export function setScriptTopic(topicId) {
  const select = side.box?.querySelector('select[name="topic"]');
  if (!select || side.topicTouched || !topicId || select.value === topicId) return;
  if (![...select.options].some((o) => o.value === topicId)) return;
  select.value = topicId;
  loadScripts();
}

async function loadScripts() {
  if (!side.box) return;
  const q = side.box.querySelector('input[name="q"]').value.trim();
  const topic = side.box.querySelector('select[name="topic"]').value;
  const list = side.box.querySelector('.scripts-list');
  try {
    const { scripts } = await api(
      `/api/desk/scripts?q=${encodeURIComponent(q)}&topic=${encodeURIComponent(topic)}`,
    );
    list.innerHTML =
      scripts
        .map(
          (s) =>
            `<details class="script"><summary>${esc(s.title)} <small>${esc(s.topicTitle ?? s.topicId)}, версия ${esc(s.version)}</small></summary><p>${esc(s.text)}</p></details>`,
        )
        .join('') || '<p class="hint">Ничего не найдено</p>';
  } catch (err) {
    list.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

export async function loadCallbacks() {
  const panel = side.box?.querySelector('.callbacks');
  if (!panel || side.noCallbacks) return;
  try {
    const { callbacks } = await api('/api/desk/callbacks');
    const topics = await topicTitles();
    panel.hidden = false;
    panel.querySelector('tbody').innerHTML =
      callbacks
        .map(
          (c) =>
            `<tr class="callback-${esc(c.state)}"><td>${esc(when(c.dueAt) || 'как можно скорее')}</td><td>${esc(c.phone)}</td><td>${esc(topics[c.topicId] ?? c.topicId ?? '—')}</td><td>${esc(callbackStateRu[c.state] ?? c.state)}${c.attempts ? ` (попыток ${esc(c.attempts)}${c.maxAttempts ? ` из ${esc(c.maxAttempts)}` : ''})` : ''}<br><small>${esc(callbackSourceRu[c.source] ?? c.source)}</small>${callbackActions(c)}</td></tr>`,
        )
        .join('') || '<tr><td colspan="4">Обратных звонков нет</td></tr>';
    for (const b of panel.querySelectorAll('button[data-callback]')) {
      b.addEventListener('click', () => changeCallback(b));
    }
  } catch (err) {
    // No callbacks on this server (the route is not there) or not for this role: the panel stays hidden.
    panel.hidden = true;
    if (err.status === 404 || err.status === 403) side.noCallbacks = true;
  }
}

/** An open callback is marked done by hand (the operator called) or cancelled. */
function callbackActions(c) {
  if (!['pending', 'scheduled', 'failed'].includes(c.state)) return '';
  return `<br><button type="button" data-callback="${esc(c.id)}" data-state="done">Выполнен</button> <button type="button" data-callback="${esc(c.id)}" data-state="cancelled">Отменить</button>`;
}

async function changeCallback(button) {
  try {
    await api(`/api/desk/callbacks/${encodeURIComponent(button.dataset.callback)}`, {
      method: 'PUT',
      body: JSON.stringify({ state: button.dataset.state }),
    });
    await loadCallbacks();
  } catch (err) {
    side.box.querySelector('.callback-form .error').textContent = err.message;
  }
}

async function scheduleCallback(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const body = { phone: data.get('phone').trim() };
  if (data.get('dueAt')) body.dueAt = new Date(data.get('dueAt')).toISOString();
  if (data.get('note').trim()) body.note = data.get('note').trim();
  const callId = side.openCallId();
  if (callId) body.callId = callId;
  try {
    await api('/api/desk/callbacks', { method: 'POST', body: JSON.stringify(body) });
    form.reset();
    form.querySelector('.error').textContent = '';
    await loadCallbacks();
  } catch (err) {
    form.querySelector('.error').textContent = err.message;
  }
}
