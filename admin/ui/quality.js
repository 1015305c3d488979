// «Контроль качества» (supervisors): a call with an operator is scored against the knowledge base's checklist
// with its recording and transcript side by side (each listen and each score audited by the API), and the
// per-operator figures of a period: calls, AHT, wrap-up, share scored, mean score, the callers' survey; then
// the mean score per topic.
import { api, duration, esc, hasRole, serverNow, state, when } from './lib.js';
import { showChecklist } from './quality-checklist.js';

const kindRu = { scale: 'баллы', yes_no: 'да / нет' };
const percent = (v) => (v === null || v === undefined ? '—' : `${Number(v).toLocaleString('ru-RU')} %`);
const share = (v) => `${Math.round((v ?? 0) * 100)} %`;
const avg = (v) => (v === null || v === undefined ? '—' : Number(v).toLocaleString('ru-RU'));

function today() {
  const d = new Date(serverNow());
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function layout(root) {
  const day = today();
  root.innerHTML = `<form id="quality-period" class="inline"><label>С <input type="date" name="from" value="${day}" required></label><label>По <input type="date" name="to" value="${day}" required></label><button type="submit">Показать</button></form>
    <p class="error" id="quality-error" role="alert"></p>
    <h3>Звонки для оценки</h3>
    <div class="table-scroll"><table id="quality-calls"><thead><tr><th>Начало</th><th>Оператор</th><th>Тема</th><th>Оценок</th><th>Последняя</th><th></th></tr></thead><tbody></tbody></table></div>
    <div id="quality-score" hidden></div>
    <h3>Показатели операторов</h3>
    <div class="table-scroll"><table id="quality-operators"><thead><tr><th>Оператор</th><th>Звонков</th><th title="Среднее время разговора">AHT</th><th>Поствызывная обработка</th><th>Оценено</th><th>Средняя оценка</th><th>Опрос абонентов</th></tr></thead><tbody></tbody></table></div>
    <h3>Оценки по темам</h3>
    <div class="table-scroll"><table id="quality-topics"><thead><tr><th>Тема</th><th>Оценено звонков</th><th>Средняя оценка</th></tr></thead><tbody></tbody></table></div>`;
  root.querySelector('#quality-period').addEventListener('submit', (event) => {
    event.preventDefault();
    void refresh(root);
  });
}

async function showCalls(root) {
  const { calls } = await api('/api/quality/calls');
  root.querySelector('#quality-calls tbody').innerHTML =
    calls
      .map(
        (c) =>
          `<tr data-call="${esc(c.id)}"><td>${esc(when(c.startedAt))}</td><td>${esc(c.operator?.name ?? '—')}</td><td>${esc(c.topicTitle ?? '—')}</td><td>${c.scores}</td><td>${percent(c.lastTotal)}</td><td><button type="button" data-score="${esc(c.id)}">Оценить</button></td></tr>`,
      )
      .join('') || '<tr><td colspan="6">Звонков с оператором нет</td></tr>';
  for (const b of root.querySelectorAll('button[data-score]'))
    b.addEventListener('click', () => void showScoring(root, b.dataset.score));
}

async function showFigures(root) {
  const form = new FormData(root.querySelector('#quality-period'));
  const q = `from=${encodeURIComponent(form.get('from'))}&to=${encodeURIComponent(form.get('to'))}`;
  const { operators, topics } = await api(`/api/quality/operators?${q}`);
  root.querySelector('#quality-operators tbody').innerHTML =
    operators
      .map(
        (o) =>
          `<tr data-operator="${esc(o.operatorId)}"><td>${esc(o.operatorName ?? o.operatorId)}</td><td>${o.calls}</td><td>${esc(o.ahtMs === null ? '—' : duration(o.ahtMs))}</td><td>${esc(o.wrapUpMs === null ? '—' : duration(o.wrapUpMs))}</td><td>${o.scored} (${share(o.scoredShare)})</td><td>${percent(o.averageScore)}</td><td>${avg(o.surveyAverage)}${o.surveys ? ` <small>(${o.surveys})</small>` : ''}</td></tr>`,
      )
      .join('') || '<tr><td colspan="7">За период звонков операторов нет</td></tr>';
  root.querySelector('#quality-topics tbody').innerHTML =
    topics
      .map(
        (t) =>
          `<tr><td>${esc(t.topicTitle ?? 'без темы')}</td><td>${t.scored}</td><td>${percent(t.averageScore)}</td></tr>`,
      )
      .join('') || '<tr><td colspan="3">Оценённых звонков нет</td></tr>';
}

async function refresh(root) {
  const error = root.querySelector('#quality-error');
  try {
    await Promise.all([showCalls(root), showFigures(root)]);
    error.textContent = '';
  } catch (err) {
    error.textContent = err.message;
  }
}

function itemField(i) {
  const options =
    i.kind === 'yes_no'
      ? `<option value="">—</option><option value="${i.weight}">да</option><option value="0">нет</option>`
      : `<option value="">—</option>${Array.from({ length: i.weight + 1 }, (_, n) => `<option value="${n}">${n}</option>`).join('')}`;
  return `<label class="checklist-item">${esc(i.title)} <small>(${esc(kindRu[i.kind])}, вес ${i.weight})</small><select name="${esc(i.id)}" data-weight="${i.weight}" required>${options}</select></label>`;
}

/** The call's recording and transcript on the left, the checklist on the right (stacked on a phone). */
async function showScoring(root, callId) {
  const box = root.querySelector('#quality-score');
  const { call, turns, checklist, scores } = await api(`/api/quality/calls/${encodeURIComponent(callId)}`);
  const { recordings } = await api(`/api/calls/${encodeURIComponent(callId)}/recordings`);
  const transcript =
    turns
      .map(
        (t) =>
          `<p class="who-${esc(t.who)}"><b>${t.who === 'bot' ? 'Бот' : t.who === 'operator' ? 'Оператор' : 'Абонент'}:</b> ${esc(t.text)}</p>`,
      )
      .join('') || '<p>Расшифровки нет.</p>';
  const records =
    recordings
      .map(
        (r) =>
          `<li>${esc(when(r.startedAt))}, ${r.durationMs ? `${Math.round(r.durationMs / 1000)} с` : 'идёт запись'} <button type="button" data-recording="${esc(r.id)}">Прослушать</button></li>`,
      )
      .join('') || '<li>Записей разговора нет.</li>';
  const earlier = scores.length
    ? `<p class="earlier-scores">Прежние оценки: ${scores.map((s) => `${percent(s.total)} (${esc(s.scorer)}, ${esc(when(s.at))})`).join('; ')}</p>`
    : '';
  box.innerHTML = `<h3>Оценка звонка ${esc(call.id)} — оператор ${esc(call.operator?.name ?? '—')}</h3>
    <div class="quality-split">
      <div class="quality-media"><h4>Запись</h4><ul class="quality-recordings">${records}</ul><p class="error" id="quality-recording-error"></p><h4>Расшифровка</h4><div class="transcript">${transcript}</div></div>
      <form class="quality-form" id="quality-form"><h4>Чек-лист</h4>${checklist.map(itemField).join('')}<label>Комментарий <textarea name="comment" maxlength="2000"></textarea></label><p>Итого: <b id="quality-total">—</b></p><button type="submit">Сохранить оценку</button><p class="error" id="quality-form-error" role="alert"></p><p id="quality-saved" role="status"></p>${earlier}</form>
    </div>`;
  box.hidden = false;
  box.scrollIntoView({ block: 'start' });
  for (const button of box.querySelectorAll('button[data-recording]'))
    button.addEventListener('click', async () => {
      const res = await fetch(`/api/recordings/${encodeURIComponent(button.dataset.recording)}/audio`, {
        headers: { authorization: `Bearer ${state.token}` },
      });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        box.querySelector('#quality-recording-error').textContent = body.message ?? `Ошибка ${res.status}`;
        return;
      }
      const audio = document.createElement('audio');
      audio.controls = true;
      audio.src = URL.createObjectURL(await res.blob());
      button.replaceWith(audio);
    });
  const form = box.querySelector('#quality-form');
  const selects = [...form.querySelectorAll('select')];
  const total = () => {
    if (selects.some((s) => s.value === '')) return null;
    const given = selects.reduce((n, s) => n + Number(s.value), 0);
    const possible = selects.reduce((n, s) => n + Number(s.dataset.weight), 0);
    return Math.round((given / possible) * 10000) / 100;
  };
  form.addEventListener('change', () => {
    form.querySelector('#quality-total').textContent = percent(total());
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const { score } = await api(`/api/calls/${encodeURIComponent(callId)}/scores`, {
        method: 'POST',
        body: JSON.stringify({
          items: selects.map((s) => ({ id: s.name, points: Number(s.value) })),
          comment: String(data.get('comment') ?? ''),
        }),
      });
      form.querySelector('#quality-form-error').textContent = '';
      form.querySelector('#quality-saved').textContent = `Оценка сохранена: ${percent(score.total)}`;
      await refresh(root);
    } catch (err) {
      form.querySelector('#quality-form-error').textContent = err.message;
    }
  });
}

/** Tabs «Оценка звонков» (supervisors) and «Чек-лист» (editors change it, supervisors see it). */
function frame(root) {
  const scoring = hasRole('supervisor', 'admin');
  root.innerHTML = `<div class="tabs" role="tablist"${scoring ? '' : ' hidden'}><button type="button" role="tab" data-tab="quality-scoring" aria-selected="true">Оценка звонков</button><button type="button" role="tab" data-tab="quality-checklist" aria-selected="false">Чек-лист</button></div>
    <div id="quality-scoring" role="tabpanel"${scoring ? '' : ' hidden'}></div><div id="quality-checklist" role="tabpanel"${scoring ? ' hidden' : ''}></div>`;
  root.dataset.role = state.user?.role ?? '';
  for (const tab of root.querySelectorAll('[role=tab]'))
    tab.addEventListener('click', () => void openTab(root, tab.dataset.tab));
}

async function openTab(root, id) {
  for (const tab of root.querySelectorAll('[role=tab]'))
    tab.setAttribute('aria-selected', String(tab.dataset.tab === id));
  for (const panel of root.querySelectorAll('[role=tabpanel]')) panel.hidden = panel.id !== id;
  const panel = root.querySelector(`#${id}`);
  if (id === 'quality-checklist') await showChecklist(panel, { editable: hasRole('editor', 'admin') });
  else {
    if (!panel.querySelector('#quality-period')) layout(panel);
    await refresh(panel);
  }
}

export async function qualityPage() {
  const root = document.querySelector('#quality-root');
  if (root.dataset.role !== (state.user?.role ?? '')) frame(root);
  if (!hasRole('supervisor', 'admin')) return openTab(root, 'quality-checklist');
  const current = root.querySelector('[role=tab][aria-selected=true]')?.dataset.tab ?? 'quality-scoring';
  // Opened from a call card («Оценить по чек-листу»): that call's scoring at once.
  const callId = state.scoreCall;
  state.scoreCall = null;
  await openTab(root, callId ? 'quality-scoring' : current);
  if (callId) await showScoring(root.querySelector('#quality-scoring'), callId);
}
