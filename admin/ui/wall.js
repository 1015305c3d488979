// «Монитор»: the supervisor's wall. Queues, operators and today's figures, pushed over
// GET /api/desk/wall/events (refreshed every 5 s while the push is down); a supervisor changes an
// operator's state and moves a waiting call to another queue.
import {
  $,
  api,
  channelRu,
  duration,
  esc,
  openStream,
  operatorStateRu,
  queueCallStateRu,
  serverNow,
  strategyRu,
  topicTitles,
} from './lib.js';

const wall = {
  stopStream: null,
  poll: null,
  tick: null,
  data: null,
  receivedAt: 0,
  pending: false,
  topics: {},
  /** Counted up whenever the wall is left: a wallPage still loading from before starts nothing afterwards. */
  epoch: 0,
};

const percent = (share) => (typeof share === 'number' ? `${Math.round(share * 100)} %` : '—');

function skeleton() {
  $('#wall-root').innerHTML = `<p class="hint" id="wall-live"></p>
<div class="cards" id="wall-figures"></div>
<h3>Очереди</h3>
<div class="table-scroll"><table id="wall-queues"><thead><tr><th>Очередь</th><th>Распределение</th><th>Норматив</th><th>Ждут</th><th>Самое долгое ожидание</th></tr></thead><tbody></tbody></table></div>
<h3>Вызовы в очередях</h3>
<div class="table-scroll"><table id="wall-calls"><thead><tr><th>Очередь</th><th>Канал</th><th>Тема</th><th>Ждёт</th><th>Состояние</th><th>Оператор</th><th>Перевести</th></tr></thead><tbody></tbody></table></div>
<h3>Операторы</h3>
<div class="table-scroll"><table id="wall-operators"><thead><tr><th>Оператор</th><th>Состояние</th><th>В состоянии</th><th>Принято</th><th>В разговоре</th><th>Изменить состояние</th></tr></thead><tbody></tbody></table></div>
<p class="error" id="wall-error" role="alert"></p>`;
  // A list is not redrawn under a supervisor's hand: it waits until the choice is made.
  $('#wall-root').addEventListener('focusout', () => {
    setTimeout(() => {
      if (wall.pending && !busy()) render();
    }, 0);
  });
}

const busy = () => Boolean(document.activeElement?.closest?.('#wall-root form'));

function figuresHtml(f, queues) {
  const waiting = queues.reduce((sum, q) => sum + (q.waiting ?? 0), 0);
  const longest = Math.max(0, ...queues.map((q) => q.longestWaitMs ?? 0));
  const norm = f.waitNormMs ?? 0;
  const cards = [
    ['Ждут сейчас', waiting, waiting > 0 ? 'warn' : ''],
    ['Самое долгое ожидание', duration(longest), norm && longest > norm ? 'bad' : '', 'data-longest'],
    [
      'Уровень обслуживания',
      percent(f.serviceLevel),
      f.serviceLevel !== null && f.serviceLevel < 0.8 ? 'bad' : 'ok',
    ],
    ['Среднее время ответа (ASA)', duration(f.asaMs)],
    ['Средняя длительность (AHT)', duration(f.ahtMs)],
    ['Поступило', f.offered],
    ['Принято', f.answered],
    ['Сброшено в очереди', f.abandoned, f.abandoned > 0 ? 'warn' : ''],
    ['Потеряно сверх норматива', f.lost, f.lost > 0 ? 'bad' : ''],
    ['Ждут обратного звонка', f.callbacksPending ?? '—'],
  ];
  return cards
    .map(
      ([label, value, cls, attr]) =>
        `<div class="card"><span>${esc(label)}</span><b class="${cls ?? ''}"${attr ? ` ${attr}` : ''}>${esc(value)}</b></div>`,
    )
    .join('');
}

function render() {
  const d = wall.data;
  if (!d) return;
  if (busy()) {
    wall.pending = true;
    return;
  }
  wall.pending = false;
  const topics = wall.topics;
  const names = Object.fromEntries(d.operators.map((o) => [o.id, o.name]));
  $('#wall-figures').innerHTML = figuresHtml(d.figures ?? {}, d.queues);
  $('#wall-queues tbody').innerHTML =
    d.queues
      .map(
        (q) =>
          `<tr data-queue="${esc(q.id)}"><td>${esc(q.name ?? q.id)}</td><td>${esc(strategyRu[q.strategy] ?? q.strategy)}</td><td>${esc(duration(q.waitNormMs))}</td><td>${esc(q.waiting)}</td><td class="${q.longestWaitMs > q.waitNormMs ? 'bad' : ''}" data-waited="${esc(q.longestWaitMs ?? 0)}">${esc(duration(q.longestWaitMs))}</td></tr>`,
      )
      .join('') || '<tr><td colspan="5">Очередей нет</td></tr>';
  const calls = d.queues.flatMap((q) => (q.calls ?? []).map((c) => ({ ...c, queue: q })));
  $('#wall-calls tbody').innerHTML =
    calls
      .map((c) => {
        const targets = d.queues.filter((q) => q.id !== c.queue.id);
        const move =
          targets.length > 0 && (c.state === 'waiting' || c.state === 'offered')
            ? `<form class="move inline" data-call="${esc(c.callId)}"><select name="queueId" aria-label="Очередь">${targets
                .map((q) => `<option value="${esc(q.id)}">${esc(q.name ?? q.id)}</option>`)
                .join('')}</select><button type="submit">Перевести</button></form>`
            : '';
        // A supervisor listens in to a live phone call on their own phone (FreeSWITCH eavesdrop).
        const listen =
          c.channel === 'phone' && c.state === 'answered'
            ? `<form class="listen inline" data-call="${esc(c.callId)}"><input name="sipUri" required pattern="sips?:\\S+" placeholder="sip:супервизор@…" aria-label="Ваш SIP-адрес" value="${esc(localStorage.getItem('otklik.listenUri') ?? '')}"><button type="submit">Прослушать</button></form>`
            : '';
        return `<tr data-call="${esc(c.callId)}"><td>${esc(c.queue.name ?? c.queue.id)}</td><td>${esc(channelRu[c.channel] ?? c.channel)}</td><td>${esc(topics[c.topicId] ?? c.topicId ?? '—')}</td><td class="${c.waitedMs > c.queue.waitNormMs ? 'bad' : ''}" data-waited="${esc(c.waitedMs)}">${esc(duration(c.waitedMs))}</td><td>${esc(queueCallStateRu[c.state] ?? c.state)}</td><td>${esc(c.operatorId ? (names[c.operatorId] ?? c.operatorId) : '—')}</td><td>${move}${listen}</td></tr>`;
      })
      .join('') || '<tr><td colspan="7">Никто не ждёт</td></tr>';
  $('#wall-operators tbody').innerHTML =
    d.operators
      .map(
        (o) =>
          `<tr data-operator="${esc(o.id)}" class="state-${esc(o.state)}"><td>${esc(o.name)}${o.login ? ` <small>${esc(o.login)}</small>` : ''}</td><td>${esc(operatorStateRu[o.state] ?? o.state)}${o.state === 'break' && o.breakReason ? `: ${esc(o.breakReason === 'no_answer' ? 'не ответил на вызовы' : o.breakReason)}` : ''}</td><td data-since="${esc(o.stateSince ?? '')}">${esc(o.stateSince ? duration(serverNow() - Date.parse(o.stateSince)) : '—')}</td><td>${esc(o.callsAnswered ?? 0)}</td><td>${esc(duration(o.talkMs ?? 0))}</td><td><form class="set-state inline" data-operator="${esc(o.id)}"><select name="state" aria-label="Новое состояние"><option value="available">доступен</option><option value="break">перерыв</option><option value="offline">не в сети</option></select><input name="reason" placeholder="причина" aria-label="Причина перерыва"><button type="submit">Изменить</button></form></td></tr>`,
      )
      .join('') || '<tr><td colspan="6">Операторов нет</td></tr>';
  for (const form of document.querySelectorAll('#wall-operators form.set-state')) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const state = form.elements.state.value;
      const reason = form.elements.reason.value.trim();
      act(`/api/desk/operators/${encodeURIComponent(form.dataset.operator)}/state`, 'PUT', {
        state,
        ...(state === 'break' && reason ? { reason } : {}),
      });
    });
  }
  for (const form of document.querySelectorAll('#wall-calls form.listen')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const sipUri = form.elements.sipUri.value.trim();
      localStorage.setItem('otklik.listenUri', sipUri);
      const ok = await act(`/api/desk/calls/${encodeURIComponent(form.dataset.call)}/listen`, 'POST', {
        sipUri,
      });
      if (ok) $('#wall-live').textContent = `Звонок поступит на ${sipUri}: ответьте, чтобы слушать разговор.`;
    });
  }
  for (const form of document.querySelectorAll('#wall-calls form.move')) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(`/api/desk/calls/${encodeURIComponent(form.dataset.call)}/move`, 'POST', {
        queueId: form.elements.queueId.value,
      });
    });
  }
  tick();
}

async function act(path, method, body) {
  try {
    await api(path, { method, body: JSON.stringify(body) });
    $('#wall-error').textContent = '';
    document.activeElement?.blur?.();
    await refresh();
    return true;
  } catch (err) {
    $('#wall-error').textContent = err.message;
    return false;
  }
}

/** Waits and times in state run on between pushes. */
function tick() {
  const elapsed = Date.now() - wall.receivedAt;
  for (const cell of document.querySelectorAll('#wall-root [data-waited]')) {
    cell.textContent = duration(
      Number(cell.dataset.waited) + (Number(cell.dataset.waited) > 0 ? elapsed : 0),
    );
  }
  for (const cell of document.querySelectorAll('#wall-operators [data-since]')) {
    if (cell.dataset.since) cell.textContent = duration(serverNow() - Date.parse(cell.dataset.since));
  }
}

function apply(data) {
  wall.data = data;
  wall.receivedAt = Date.now();
  render();
}

async function refresh() {
  try {
    apply(await api('/api/desk/wall'));
  } catch (err) {
    $('#wall-error').textContent = err.message;
  }
}

export async function wallPage() {
  const epoch = wall.epoch;
  if (!$('#wall-root #wall-figures')) skeleton();
  wall.topics = await topicTitles();
  if (epoch !== wall.epoch) return;
  await refresh();
  if (epoch !== wall.epoch) return;
  wall.tick ??= setInterval(tick, 1000);
  // Polled every 5 s until the push is live, and again whenever it drops.
  wall.poll ??= setInterval(refresh, 5000);
  wall.stopStream ??= openStream('/api/desk/wall/events', {
    onEvent: (name, data) => {
      if (name === 'wall') apply(data);
    },
    onStatus: (up) => {
      clearInterval(wall.poll);
      wall.poll = up ? null : setInterval(refresh, 5000);
      $('#wall-live').textContent = up ? '' : 'Нет связи для обновлений: монитор обновляется каждые 5 с.';
    },
    onMissing: () => {
      wall.stopStream = () => {};
    },
  });
}

/** Leaving the page or signing out: no stream or timer keeps running for a wall nobody sees. */
export function stopWall() {
  wall.epoch++;
  wall.stopStream?.();
  wall.stopStream = null;
  clearInterval(wall.poll);
  clearInterval(wall.tick);
  wall.poll = null;
  wall.tick = null;
}
