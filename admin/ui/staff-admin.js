// «Операторы и очереди» (supervisors, admins): operators with their skills (KB topics) and queue tiers,
// and the queues with their distribution strategy, wait norm, wrap-up, max-no-answer and ring timeout.
import { $, api, duration, esc, operatorStateRu, strategyRu, topicTitles } from './lib.js';

const seconds = (ms) => (ms === null || ms === undefined ? '' : String(Math.round(ms / 1000)));
const data = { operators: [], queues: [], strategies: [], topics: {} };

function skeleton() {
  $('#staff-root').innerHTML = `<h3>Операторы</h3>
<div class="table-scroll"><table id="staff-operators"><thead><tr><th>Оператор</th><th>Логин</th><th>Телефон (SIP)</th><th>Темы</th><th>Очереди (уровень/позиция)</th><th>Состояние</th><th></th></tr></thead><tbody></tbody></table></div>
<form id="operator-form" class="panel" hidden><h4>Оператор</h4>
  <label>Код оператора <input name="id" required pattern="[A-Za-z0-9._-]+" placeholder="латиницей, например ivanova"></label>
  <label>ФИО <input name="name" required></label>
  <label>Логин сотрудника <input name="login" placeholder="для входа на рабочее место"></label>
  <label>SIP URI телефона <input name="sipUri" placeholder="sip:101@pbx.local (пусто — только чаты)"></label>
  <fieldset class="skills"><legend>Темы (навыки)</legend></fieldset>
  <fieldset class="tiers"><legend>Очереди: уровень и позиция</legend></fieldset>
  <button type="submit">Сохранить оператора</button> <button type="reset">Очистить</button>
  <p class="error" role="alert"></p>
</form>
<h3>Очереди</h3>
<div class="table-scroll"><table id="staff-queues"><thead><tr><th>Очередь</th><th>Распределение</th><th>Норматив ожидания</th><th>Завершение обработки</th><th>Без ответа подряд</th><th>Время вызова</th><th>Перелив</th><th>Операторы</th><th></th></tr></thead><tbody></tbody></table></div>
<form id="queue-form" class="panel" hidden><h4>Очередь</h4>
  <label>Код очереди <input name="id" required pattern="[A-Za-z0-9._-]+" placeholder="как код темы, например health"></label>
  <label>Название <input name="name" required></label>
  <label>Распределение вызовов <select name="strategy"></select></label>
  <label>Норматив ожидания, с <input name="waitNorm" type="number" min="1" required></label>
  <label>Завершение обработки после разговора, с <input name="wrapUp" type="number" min="0" required></label>
  <label>Вызовов без ответа подряд до перерыва <input name="maxNoAnswer" type="number" min="1" required></label>
  <label>Время вызова оператора, с <input name="ringTimeout" type="number" min="1" required></label>
  <label>Перелив после ожидания, с <input name="overflowAfter" type="number" min="1" placeholder="без перелива"></label>
  <label>Куда переливать <select name="overflowTo"></select></label>
  <label>Объявлений очереди до обратного звонка или обращения <input name="announceMax" type="number" min="1" max="100" required></label>
  <button type="submit">Сохранить очередь</button> <button type="reset">Очистить</button>
  <p class="error" role="alert"></p>
</form>`;
  $('#operator-form').addEventListener('submit', saveOperator);
  $('#operator-form').addEventListener('reset', () => setTimeout(() => fillOperator(null), 0));
  $('#queue-form').addEventListener('submit', saveQueue);
  $('#queue-form').addEventListener('reset', () => setTimeout(() => fillQueue(null), 0));
}

/** An operator's tiers: from the operator when the API gives them, else from the queues' members. */
function tiersOf(o) {
  if (Array.isArray(o.queues)) return o.queues;
  return data.queues.flatMap((q) =>
    (q.members ?? [])
      .filter((m) => (m.operatorId ?? m.id) === o.id)
      .map((m) => ({ queueId: q.id, level: m.level, position: m.position })),
  );
}

const queueName = (id) => data.queues.find((q) => q.id === id)?.name ?? id;

function renderOperators() {
  $('#staff-operators tbody').innerHTML =
    data.operators
      .map(
        (o) =>
          `<tr data-operator="${esc(o.id)}"><td>${esc(o.name)} <small>${esc(o.id)}</small></td><td>${esc(o.login ?? '—')}</td><td>${esc(o.sipUri || 'только чаты')}</td><td>${esc((o.skills ?? []).map((s) => data.topics[s] ?? s).join(', ') || '—')}</td><td>${esc(
            tiersOf(o)
              .map((t) => `${queueName(t.queueId)} (${t.level ?? 1}/${t.position ?? 1})`)
              .join(', ') || '—',
          )}</td><td>${esc(operatorStateRu[o.state] ?? o.state ?? '—')}</td><td class="actions"><button type="button" data-edit="${esc(o.id)}">Изменить</button> <button type="button" data-delete="${esc(o.id)}">Удалить</button></td></tr>`,
      )
      .join('') || '<tr><td colspan="7">Операторов нет</td></tr>';
  for (const b of document.querySelectorAll('#staff-operators button[data-edit]')) {
    b.addEventListener('click', () => {
      fillOperator(data.operators.find((o) => o.id === b.dataset.edit));
      $('#operator-form').scrollIntoView({ behavior: 'smooth' });
    });
  }
  for (const b of document.querySelectorAll('#staff-operators button[data-delete]')) {
    b.addEventListener('click', async () => {
      if (!confirm(`Удалить оператора ${b.dataset.delete}? История его вызовов сохранится.`)) return;
      try {
        await api(`/api/desk/operators/${encodeURIComponent(b.dataset.delete)}`, { method: 'DELETE' });
        await load();
      } catch (err) {
        $('#operator-form .error').textContent = err.message;
      }
    });
  }
}

function fillOperator(o) {
  const form = $('#operator-form');
  form.elements.id.value = o?.id ?? '';
  form.elements.id.readOnly = Boolean(o);
  form.elements.name.value = o?.name ?? '';
  form.elements.login.value = o?.login ?? '';
  form.elements.sipUri.value = o?.sipUri ?? '';
  const skills = new Set(o?.skills ?? []);
  form.querySelector('.skills').innerHTML = `<legend>Темы (навыки)</legend>${Object.entries(data.topics)
    .map(
      ([id, title]) =>
        `<label class="check"><input type="checkbox" name="skill" value="${esc(id)}"${skills.has(id) ? ' checked' : ''}> ${esc(title)}</label>`,
    )
    .join('')}`;
  renderTiers(new Map((o ? tiersOf(o) : []).map((t) => [t.queueId, t])));
  form.querySelector('.error').textContent = '';
}

/** The operator form's queue list; redrawn when a queue is added, keeping what was ticked. */
function renderTiers(tiers) {
  $('#operator-form').querySelector('.tiers').innerHTML =
    `<legend>Очереди: уровень и позиция</legend>${data.queues
      .map((q) => {
        const t = tiers.get(q.id);
        return `<div class="tier" data-queue="${esc(q.id)}"><label class="check"><input type="checkbox" name="queue" value="${esc(q.id)}"${t ? ' checked' : ''}> ${esc(q.name ?? q.id)}</label><label>уровень <input type="number" name="level" min="1" value="${esc(t?.level ?? 1)}"></label><label>позиция <input type="number" name="position" min="1" value="${esc(t?.position ?? 1)}"></label></div>`;
      })
      .join('')}`;
}

/** What the operator form's queue list says now: ticked queues with their level and position. */
function tiersInForm() {
  return new Map(
    [...document.querySelectorAll('#operator-form .tier')]
      .filter((t) => t.querySelector('input[name="queue"]').checked)
      .map((t) => [
        t.dataset.queue,
        {
          queueId: t.dataset.queue,
          level: Number(t.querySelector('input[name="level"]').value) || 1,
          position: Number(t.querySelector('input[name="position"]').value) || 1,
        },
      ]),
  );
}

async function saveOperator(event) {
  event.preventDefault();
  const form = event.target;
  const el = form.elements;
  const body = {
    name: el.name.value.trim(),
    login: el.login.value.trim() || null,
    sipUri: el.sipUri.value.trim() || null,
    skills: [...form.querySelectorAll('input[name="skill"]:checked')].map((c) => c.value),
    queues: [...tiersInForm().values()],
  };
  try {
    await api(`/api/desk/operators/${encodeURIComponent(el.id.value.trim())}`, {
      method: 'PUT',
      body: JSON.stringify(body),
    });
    fillOperator(null);
    await load();
  } catch (err) {
    form.querySelector('.error').textContent = err.message;
  }
}

function renderQueues() {
  $('#staff-queues tbody').innerHTML =
    data.queues
      .map(
        (q) =>
          `<tr data-queue="${esc(q.id)}"><td>${esc(q.name ?? q.id)} <small>${esc(q.id)}</small></td><td>${esc(strategyRu[q.strategy] ?? q.strategy)}</td><td>${esc(duration(q.waitNormMs))}</td><td>${esc(duration(q.wrapUpMs))}</td><td>${esc(q.maxNoAnswer)}</td><td>${esc(duration(q.ringTimeoutMs))}</td><td>${esc(overflowText(q))}</td><td>${esc((q.members ?? []).length)}</td><td class="actions"><button type="button" data-edit="${esc(q.id)}">Изменить</button>${q.id === 'default' ? '' : ` <button type="button" data-delete="${esc(q.id)}">Удалить</button>`}</td></tr>`,
      )
      .join('') || '<tr><td colspan="8">Очередей нет</td></tr>';
  // The default queue stays: every call without a topic's queue waits there.
  for (const b of document.querySelectorAll('#staff-queues button[data-delete]')) {
    b.addEventListener('click', async () => {
      if (!confirm(`Удалить очередь ${b.dataset.delete}? Пока в ней есть вызовы, удалить её нельзя.`)) return;
      try {
        await api(`/api/desk/queues/${encodeURIComponent(b.dataset.delete)}`, { method: 'DELETE' });
        await load();
        renderTiers(tiersInForm());
      } catch (err) {
        $('#queue-form .error').textContent = err.message;
      }
    });
  }
  for (const b of document.querySelectorAll('#staff-queues button[data-edit]')) {
    b.addEventListener('click', () => {
      fillQueue(data.queues.find((q) => q.id === b.dataset.edit));
      $('#queue-form').scrollIntoView({ behavior: 'smooth' });
    });
  }
}

/** Where a queue overflows and after how long, in words. */
function overflowText(q) {
  if (!q.overflowAfterMs || !q.overflowTo) return 'нет';
  const to = q.overflowTo.startsWith('queue:')
    ? `в «${data.queues.find((o) => `queue:${o.id}` === q.overflowTo)?.name ?? q.overflowTo.slice(6)}»`
    : q.overflowTo === 'inquiry'
      ? 'в обращение'
      : 'в обратный звонок';
  return `${to} через ${duration(q.overflowAfterMs)}`;
}

function fillQueue(q) {
  const el = $('#queue-form').elements;
  const strategies = data.strategies.length > 0 ? data.strategies : Object.keys(strategyRu);
  el.strategy.innerHTML = strategies
    .map((s) => (typeof s === 'string' ? s : s.id))
    .map((s) => `<option value="${esc(s)}">${esc(strategyRu[s] ?? s)}</option>`)
    .join('');
  const first = data.queues[0];
  el.id.value = q?.id ?? '';
  el.id.readOnly = Boolean(q);
  el.name.value = q?.name ?? '';
  el.strategy.value = q?.strategy ?? 'longest-idle-agent';
  el.waitNorm.value = seconds(q?.waitNormMs ?? first?.waitNormMs ?? 60_000);
  el.wrapUp.value = seconds(q?.wrapUpMs ?? first?.wrapUpMs ?? 10_000);
  el.maxNoAnswer.value = String(q?.maxNoAnswer ?? first?.maxNoAnswer ?? 3);
  el.ringTimeout.value = seconds(q?.ringTimeoutMs ?? first?.ringTimeoutMs ?? 35_000);
  el.overflowAfter.value = q?.overflowAfterMs ? seconds(q.overflowAfterMs) : '';
  el.overflowTo.innerHTML = [
    '<option value="">никуда (ждать с объявлениями)</option>',
    ...data.queues
      .filter((other) => other.id !== q?.id)
      .map(
        (other) =>
          `<option value="queue:${esc(other.id)}">в очередь «${esc(other.name ?? other.id)}»</option>`,
      ),
    '<option value="inquiry">обращение через бота</option>',
    '<option value="callback">обратный звонок</option>',
  ].join('');
  el.overflowTo.value = q?.overflowTo ?? '';
  el.announceMax.value = String(q?.announceMax ?? first?.announceMax ?? 10);
  $('#queue-form .error').textContent = '';
}

async function saveQueue(event) {
  event.preventDefault();
  const el = event.target.elements;
  const body = {
    name: el.name.value.trim(),
    strategy: el.strategy.value,
    waitNormMs: Number(el.waitNorm.value) * 1000,
    wrapUpMs: Number(el.wrapUp.value) * 1000,
    maxNoAnswer: Number(el.maxNoAnswer.value),
    ringTimeoutMs: Number(el.ringTimeout.value) * 1000,
    overflowAfterMs: el.overflowAfter.value ? Number(el.overflowAfter.value) * 1000 : null,
    overflowTo: el.overflowTo.value || null,
    announceMax: Number(el.announceMax.value),
  };
  try {
    await api(`/api/desk/queues/${encodeURIComponent(el.id.value.trim())}`, {
      method: 'PUT',
      body: JSON.stringify(body),
    });
    fillQueue(null);
    await load();
    renderTiers(tiersInForm());
  } catch (err) {
    $('#queue-form .error').textContent = err.message;
  }
}

async function load() {
  const [{ operators }, { queues, strategies }] = await Promise.all([
    api('/api/desk/operators'),
    api('/api/desk/queues'),
  ]);
  data.operators = operators;
  data.queues = queues;
  data.strategies = strategies ?? [];
  renderOperators();
  renderQueues();
}

export async function staffPage() {
  const first = !$('#staff-root #operator-form');
  if (first) skeleton();
  data.topics = await topicTitles();
  await load();
  if (first) {
    // The forms stay hidden until they are filled: a supervisor who typed while the lists were loading
    // would otherwise lose what they typed to the reset that fills the defaults.
    fillOperator(null);
    fillQueue(null);
    $('#operator-form').hidden = false;
    $('#queue-form').hidden = false;
  }
}
