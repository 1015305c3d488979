// «Рабочее место оператора»: presence, the offer pushed over GET /api/desk/events, the open conversation
// (desk-conversation.js), the scripts and callbacks beside it (desk-side.js).
import { closeConversationView, showConversation } from './desk-conversation.js';
import { answersHtml, entitiesHtml, intentsHtml, ringHtml, setRing, transcriptHtml } from './desk-parts.js';
import { loadCallbacks, renderSide, setScriptTopic } from './desk-side.js';
import {
  $,
  api,
  channelRu,
  duration,
  esc,
  openStream,
  operatorStateRu,
  serverNow,
  topicTitles,
} from './lib.js';

const desk = {
  stopStream: null,
  poll: null,
  tick: null,
  callbacks: null,
  operator: null,
  offers: [],
  conversations: [],
  /** When each offer arrived here: waited time and the ring run on from it. */
  received: new Map(),
  /** The entities and answers given of each offer, by call id. */
  extras: new Map(),
  topics: {},
  live: false,
  /** Counted up at every sign-out: a deskPage still loading from before it starts nothing afterwards. */
  epoch: 0,
};

export function queueTitle(queueId, topics) {
  if (!queueId || queueId === 'default') return 'общая';
  return topics[queueId] ?? queueId;
}

async function skeleton() {
  $('#desk-root').innerHTML = `<div class="desk">
  <div class="desk-main">
    <div class="panel" id="desk-presence">
      <p class="presence-line">Состояние: <b id="desk-state">—</b> <span id="desk-since" class="hint"></span>
        <span id="desk-live" class="hint"></span></p>
      <div class="presence-buttons">
        <button type="button" data-presence="available">Доступен</button>
        <form id="desk-break" class="inline"><input name="reason" placeholder="Причина (обед, учёба…)" aria-label="Причина перерыва"><button type="submit">Перерыв</button></form>
        <button type="button" data-presence="offline">Не в сети</button>
      </div>
      <p id="desk-who" class="hint"></p>
      <p class="error" id="desk-error" role="alert"></p>
    </div>
    <div id="desk-offers"></div>
    <div id="desk-conversation"></div>
  </div>
  <aside class="desk-side" id="desk-side"></aside>
</div>`;
  for (const b of document.querySelectorAll('#desk-presence button[data-presence]')) {
    b.addEventListener('click', () => setPresence({ state: b.dataset.presence }));
  }
  $('#desk-break').addEventListener('submit', (event) => {
    event.preventDefault();
    const reason = new FormData(event.target).get('reason').trim();
    setPresence(reason ? { state: 'break', reason } : { state: 'break' });
  });
  await renderSide($('#desk-side'), () => openCallId());
}

function openCallId() {
  return desk.conversations.find((c) => c.state === 'answered')?.callId ?? null;
}

async function setPresence(body) {
  try {
    await api('/api/desk/presence', { method: 'PUT', body: JSON.stringify(body) });
    $('#desk-error').textContent = '';
    if (!desk.live) await refresh();
  } catch (err) {
    $('#desk-error').textContent = err.message;
  }
}

function renderPresence() {
  const o = desk.operator;
  if (!o) return;
  const label = operatorStateRu[o.state] ?? o.state;
  $('#desk-state').textContent =
    o.state === 'break' && o.breakReason
      ? `${label}: ${o.breakReason === 'no_answer' ? 'не ответил на вызовы' : o.breakReason}`
      : label;
  $('#desk-state').className = `state-${o.state}`;
  $('#desk-since').dataset.since = o.stateSince ?? '';
  for (const b of document.querySelectorAll('#desk-presence button[data-presence]')) {
    b.classList.toggle('pressed', b.dataset.presence === o.state);
  }
  $('#desk-who').textContent =
    `${o.name}${o.sipUri ? `, телефон ${o.sipUri}` : ', без телефона: только чаты'}`;
}

function renderOffers() {
  const box = $('#desk-offers');
  const now = Date.now();
  for (const o of desk.offers) if (!desk.received.has(o.callId)) desk.received.set(o.callId, now);
  for (const id of [...desk.received.keys()]) {
    if (!desk.offers.some((o) => o.callId === id)) {
      desk.received.delete(id);
      desk.extras.delete(id);
    }
  }
  box.innerHTML = desk.offers
    .map(
      (o) => `<article class="panel offer" data-call="${esc(o.callId)}">
  <div class="offer-head">${ringHtml()}<div>
    <h3>Входящий ${o.channel === 'phone' ? 'звонок' : 'чат'}</h3>
    <p class="offer-facts"><span>Канал: <b>${esc(channelRu[o.channel] ?? o.channel)}</b></span>
      <span>Тема: <b>${esc(desk.topics[o.topicId] ?? o.topicId ?? '—')}</b></span>
      <span>Очередь: <b>${esc(queueTitle(o.queueId, desk.topics))}</b></span>
      <span>Ждёт: <b data-waited="${esc(o.waitedMs)}">${esc(duration(o.waitedMs))}</b></span>
      <span>Абонент: <b>${esc(o.caller ?? '—')}</b></span></p>
  </div></div>
  <div class="transcript">${transcriptHtml(o.transcript)}</div>
  ${intentsHtml(o.intents)}<div class="offer-extra">${desk.extras.get(o.callId) ?? ''}</div>
  <div class="offer-actions"><button type="button" class="accept" data-accept="${esc(o.callId)}">Принять</button>
    <button type="button" data-decline="${esc(o.callId)}">Отклонить</button></div>
  <p class="error" role="alert"></p>
</article>`,
    )
    .join('');
  // The latest lines matter most: what the caller said just before asking for a person.
  for (const t of box.querySelectorAll('.transcript')) t.scrollTop = t.scrollHeight;
  for (const b of box.querySelectorAll('button[data-accept]')) {
    b.addEventListener('click', () => offerAct(b, 'accept'));
  }
  for (const b of box.querySelectorAll('button[data-decline]')) {
    b.addEventListener('click', () => offerAct(b, 'decline'));
  }
  if (desk.offers[0] && !openCallId()) setScriptTopic(desk.offers[0].topicId);
  for (const o of desk.offers) if (!desk.extras.has(o.callId)) offerExtras(o.callId);
  ticks();
}

/**
 * What the offer itself does not carry: the entities the bot found and the answers it already gave
 * (the conversation's record, read once per offer; the read is audited as personal data).
 */
async function offerExtras(callId) {
  desk.extras.set(callId, '');
  try {
    const c = await api(`/api/desk/conversations/${encodeURIComponent(callId)}`);
    const html = `${entitiesHtml(c.entities)}${answersHtml(c.answers)}`;
    desk.extras.set(callId, html);
    const box = document.querySelector(`#desk-offers .offer[data-call="${CSS.escape(callId)}"] .offer-extra`);
    if (box) box.innerHTML = html;
  } catch {
    // The offer lapsed or was taken meanwhile: nothing more to show.
  }
}

async function offerAct(button, act) {
  const callId = button.dataset[act];
  button.disabled = true;
  try {
    await api(`/api/desk/offers/${encodeURIComponent(callId)}/${act}`, { method: 'POST', body: '{}' });
    desk.offers = desk.offers.filter((o) => o.callId !== callId);
    renderOffers();
    await refresh();
  } catch (err) {
    button.disabled = false;
    const p = button.closest('.offer')?.querySelector('.error');
    if (p)
      p.textContent =
        err.status === 409 ? 'Вызов уже принят другим оператором или больше не ждёт' : err.message;
  }
}

/** Time in state, waited time and the rings, once a second. */
function ticks() {
  const now = Date.now();
  const since = $('#desk-since');
  if (since?.dataset.since)
    since.textContent = `уже ${duration(serverNow() - Date.parse(since.dataset.since))}`;
  for (const o of desk.offers) {
    const card = document.querySelector(`#desk-offers .offer[data-call="${CSS.escape(o.callId)}"]`);
    if (!card) continue;
    const elapsed = now - (desk.received.get(o.callId) ?? now);
    const waited = card.querySelector('[data-waited]');
    if (waited) waited.textContent = duration(Number(o.waitedMs) + elapsed);
    const total = o.ringTimeoutMs ?? 20_000;
    let left = o.expiresAt ? Date.parse(o.expiresAt) - serverNow() : Number.NaN;
    // A browser clock far off the server's: count down from the arrival instead.
    if (!(left <= total + 2000 && left > -60_000)) left = total - elapsed;
    setRing(card.querySelector('svg.ring'), left, total);
  }
}

function apply(data) {
  if (data.operator) desk.operator = data.operator;
  if (data.offers) desk.offers = data.offers;
  if (data.conversations) desk.conversations = data.conversations;
  renderPresence();
  renderOffers();
  const open = desk.conversations.find((c) => c.state === 'answered');
  if (open) {
    setScriptTopic(open.topicId);
    showConversation(open, {
      topics: desk.topics,
      onClosed: refresh,
      wrapUp: desk.operator?.state === 'wrap_up',
    });
  } else {
    closeConversationView(desk.operator);
  }
}

async function refresh() {
  try {
    const [me, { offers }] = await Promise.all([api('/api/desk/me'), api('/api/desk/offers')]);
    apply({ operator: me.operator, conversations: me.conversations, offers });
  } catch (err) {
    $('#desk-error').textContent = err.message;
  }
}

function startStream() {
  desk.stopStream = openStream('/api/desk/events', {
    onEvent: (name, data) => {
      if (name === 'desk') apply(data);
    },
    onStatus: (up) => {
      desk.live = up;
      $('#desk-live').textContent = up ? '' : '(нет связи с сервером, переподключение…)';
    },
    // No push on this server: the desk asks every 3 s.
    onMissing: () => {
      desk.live = false;
      desk.poll ??= setInterval(refresh, 3000);
    },
  });
}

export async function deskPage() {
  // «Выйти» may be pressed while the desk still loads: then no stream or timer may start for nobody.
  const epoch = desk.epoch;
  const current = () => epoch === desk.epoch;
  if (!$('#desk-root .desk')) await skeleton();
  if (!current()) return;
  desk.topics = await topicTitles();
  if (!current()) return;
  await refresh();
  if (!current()) return;
  if (!desk.stopStream) startStream();
  desk.tick ??= setInterval(ticks, 1000);
  // Callbacks change on their own (the worker dials them): the list is re-read every 15 s.
  desk.callbacks ??= setInterval(loadCallbacks, 15_000);
  await loadCallbacks();
}

/** At sign-out: the stream and the timers end. */
export function stopDesk() {
  desk.epoch++;
  desk.stopStream?.();
  desk.stopStream = null;
  clearInterval(desk.poll);
  clearInterval(desk.tick);
  clearInterval(desk.callbacks);
  desk.callbacks = null;
  desk.poll = null;
  desk.tick = null;
  desk.operator = null;
  desk.offers = [];
  desk.conversations = [];
  const root = $('#desk-root');
  if (root) root.innerHTML = '';
}
