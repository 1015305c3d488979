// «Обучение»: the NLU's models (GET /api/nlu/models). An editor retrains in the background (POST
// /api/nlu/train) and watches its progress; each model shows its cross-validation and held-out figures, the
// per-intent F1 and the most frequent confusions; a model worse than the active one on the held-out set waits
// for an editor's confirmation; an earlier model can be activated again (rollback).
import { $, api, esc, hasRole, when } from './lib.js';

const statusRu = {
  training: 'обучается',
  ready: 'готова, не действует',
  active: 'действует',
  rejected: 'отклонена',
  retired: 'в архиве',
  failed: 'ошибка обучения',
};
const phaseRu = {
  preparing: 'подготовка фраз',
  cross_validation: 'перекрёстная проверка',
  training: 'обучение итоговой модели',
  held_out: 'проверка на контрольной выборке',
  done: 'готово',
};
const view = { poll: null, selected: null, models: [] };

const pct = (x) => (x == null ? '—' : `${(x * 100).toFixed(1).replace('.', ',')} %`);
const dec = (x) => (x == null ? '—' : x.toFixed(3).replace('.', ','));

function progressText(m) {
  const p = m.progress ?? {};
  const fold = p.phase === 'cross_validation' && p.folds ? `: часть ${p.fold} из ${p.folds}` : '';
  return `Модель №${m.id}: ${phaseRu[p.phase] ?? p.phase}${fold}`;
}

function skeleton(margin) {
  const pp = (margin * 100).toFixed(1).replace('.', ',');
  $('#training-root').innerHTML =
    `<p class="hint">Каждая новая модель перед включением проверяется: перекрёстной проверкой по обучающим фразам и на контрольной выборке — фразах, которые редакторы держат отдельно и на которых модель не обучается. Модель считается <b>хуже действующей</b>, если на контрольной выборке её точность ниже более чем на ${pp} п. п. или macro-F1 ниже более чем на ${dec(margin)}; такая модель сама не включается — её может включить редактор, подтвердив. Звонки всё это время обслуживает действующая модель.</p>
<div class="training-actions">${hasRole('editor', 'admin') ? '<button type="button" id="training-start">Переобучить модель</button>' : ''}
<div id="training-status" role="status" aria-live="polite"><progress id="training-progress" max="100" value="0" hidden aria-label="Ход обучения"></progress> <span id="training-progress-text"></span></div></div>
<p class="error" id="training-error" role="alert"></p>
<h3>Версии модели</h3>
<div class="table-scroll" tabindex="0" aria-label="Версии модели"><table id="training-models"><thead><tr><th>№</th><th>Статус</th><th>Создана</th><th>Точность (перекр.)</th><th>macro-F1 (перекр.)</th><th>Точность (контр.)</th><th>macro-F1 (контр.)</th><th></th></tr></thead><tbody></tbody></table></div>
<div id="training-details"></div>`;
  $('#training-start')?.addEventListener('click', () => start());
  $('#training-models').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-act]');
    if (!button) return;
    const id = Number(button.dataset.id);
    if (button.dataset.act === 'details') {
      view.selected = id;
      details(id).catch(showError);
    } else activate(id, button.dataset.act === 'confirm').catch(showError);
  });
}

function showError(err) {
  $('#training-error').textContent = err.message;
}

function actionsOf(m) {
  const buttons = [];
  if (m.status !== 'training' && m.status !== 'failed')
    buttons.push(
      `<button type="button" class="secondary" data-act="details" data-id="${m.id}">Оценка</button>`,
    );
  if (hasRole('editor', 'admin')) {
    if (m.status === 'ready' && m.worse)
      buttons.push(
        `<button type="button" data-act="confirm" data-id="${m.id}">Подтвердить и включить</button>`,
      );
    else if (m.status === 'ready')
      buttons.push(`<button type="button" data-act="activate" data-id="${m.id}">Включить</button>`);
    else if (m.status === 'retired' || m.status === 'rejected')
      buttons.push(
        `<button type="button" data-act="${m.worse ? 'confirm' : 'activate'}" data-id="${m.id}">Вернуть эту версию</button>`,
      );
  }
  return buttons.join(' ');
}

function renderList(models) {
  const rows = models.map((m) => {
    const who = m.createdBy ? `, ${esc(m.createdBy)}` : m.trigger === 'auto' ? ', автоматически' : '';
    const reason = m.reason
      ? `<tr class="training-reason"><td></td><td colspan="7">${esc(m.reason)}</td></tr>`
      : '';
    const active =
      m.status === 'active' && m.activatedAt
        ? `<br><small>включена ${esc(when(m.activatedAt))}${m.activatedBy ? `, ${esc(m.activatedBy)}` : ''}</small>`
        : '';
    return `<tr data-model="${m.id}" class="status-${m.status}"><td data-label="№">${m.id}</td><td data-label="Статус"><b>${esc(statusRu[m.status] ?? m.status)}</b>${active}</td><td data-label="Создана">${esc(when(m.createdAt))}${who}</td><td data-label="Точность (перекр.)">${pct(m.crossValidation?.accuracy)}</td><td data-label="macro-F1 (перекр.)">${dec(m.crossValidation?.macroF1)}</td><td data-label="Точность (контр.)">${pct(m.heldOut?.accuracy)}</td><td data-label="macro-F1 (контр.)">${dec(m.heldOut?.macroF1)}</td><td class="actions">${actionsOf(m)}</td></tr>${reason}`;
  });
  $('#training-models tbody').innerHTML =
    rows.join('') || '<tr><td colspan="8">Моделей пока нет: нажмите «Переобучить модель».</td></tr>';
}

function renderProgress(models) {
  const running = models.find((m) => m.status === 'training');
  const bar = $('#training-progress');
  bar.hidden = !running;
  if (running) {
    bar.value = Math.round((running.progress?.share ?? 0) * 100);
    $('#training-progress-text').textContent = progressText(running);
  } else {
    const last = models[0];
    $('#training-progress-text').textContent = last
      ? `Последнее обучение: модель №${last.id} — ${statusRu[last.status] ?? last.status}`
      : '';
  }
  const button = $('#training-start');
  if (button) button.disabled = Boolean(running);
  return Boolean(running);
}

async function details(id) {
  const m = await api(`/api/nlu/models/${id}`);
  const ev = m.evaluation;
  if (!ev) {
    $('#training-details').innerHTML = '';
    return;
  }
  const held = new Map((ev.heldOut?.perLabel ?? []).map((l) => [l.label, l]));
  const intents = ev.crossValidation.perLabel
    .map((l) => {
      const h = held.get(l.label);
      const weak = (h?.f1 ?? l.f1) < 0.7 ? ' class="weak"' : '';
      // Long ids break after their dots and underscores on a phone.
      const name = esc(l.label).replace(/([._])/g, '$1<wbr>');
      return `<tr${weak}><td>${name}</td><td>${dec(l.f1)}</td><td class="count">${l.support}</td><td>${h ? dec(h.f1) : '—'}</td><td class="count">${h ? h.support : 0}</td></tr>`;
    })
    .join('');
  const pairs = (list) =>
    list.length === 0
      ? '<li>нет</li>'
      : list
          .slice(0, 10)
          .map((c) => `<li>${esc(c.gold)} → ${esc(c.predicted)}: ${c.count}</li>`)
          .join('');
  const cmp = ev.comparison
    ? `<p>Действующая в момент проверки модель №${ev.comparison.activeId} на той же контрольной выборке: точность ${pct(ev.comparison.activeHeldOut.accuracy)}, macro-F1 ${dec(ev.comparison.activeHeldOut.macroF1)}.</p>`
    : '';
  $('#training-details').innerHTML = `<h3>Оценка модели №${m.id}</h3>
<p>Перекрёстная проверка (${ev.crossValidation.folds} частей, ${ev.crossValidation.n} фраз): точность ${pct(ev.crossValidation.accuracy)}, macro-F1 ${dec(ev.crossValidation.macroF1)}.
${ev.heldOut ? `Контрольная выборка (${ev.heldOut.n} фраз): точность ${pct(ev.heldOut.accuracy)}, macro-F1 ${dec(ev.heldOut.macroF1)}.` : 'Контрольная выборка пуста.'}</p>${cmp}
<div class="training-grid"><div class="table-scroll" tabindex="0" aria-label="F1 по намерениям"><table id="training-intents"><caption>F1 по намерениям</caption><thead><tr><th>Намерение</th><th>F1 (перекр.)</th><th class="count">Фраз</th><th>F1 (контр.)</th><th class="count">Контр. фраз</th></tr></thead><tbody>${intents}</tbody></table></div>
<div><h4>Частые ошибки на контрольной выборке</h4><ul id="training-confusions-heldout">${pairs(ev.heldOut?.confusions ?? [])}</ul>
<h4>Частые ошибки перекрёстной проверки</h4><ul id="training-confusions-cv">${pairs(ev.crossValidation.confusions)}</ul></div></div>`;
}

async function refresh() {
  clearTimeout(view.poll);
  const data = await api('/api/nlu/models');
  if (!$('#training-models')) skeleton(data.worseMargin);
  view.models = data.models;
  renderList(data.models);
  const running = renderProgress(data.models);
  const shown = view.selected ?? data.models.find((m) => m.status === 'active')?.id;
  if (shown && !running) await details(shown);
  if (running && !$('#training').hidden) view.poll = setTimeout(() => refresh().catch(showError), 700);
}

async function start() {
  $('#training-error').textContent = '';
  view.selected = null;
  await api('/api/nlu/train', { method: 'POST', body: '{}' });
  await refresh();
}

async function activate(id, confirm) {
  $('#training-error').textContent = '';
  await api(`/api/nlu/models/${id}/activate`, { method: 'POST', body: JSON.stringify({ confirm }) });
  view.selected = id;
  await refresh();
}

export async function trainingPage() {
  const error = $('#training-error');
  if (error) error.textContent = '';
  await refresh();
}
