// The desk's open conversation: the transcript live, a text box for a chat, a note, the outcome and close,
// the caller's earlier calls and inquiries.
import { answersHtml, entitiesHtml, historyHtml, intentsHtml, transcriptHtml } from './desk-parts.js';
import { phoneControlsHtml, transferFormHtml, transfersHtml, wirePhone } from './desk-phone.js';
import { $, api, channelRu, esc, when } from './lib.js';

const view = { callId: null, loading: false, again: false, poll: null, outcomes: null, queues: null };

async function outcomes() {
  view.outcomes ??= api('/api/desk/outcomes')
    .then((r) => r.outcomes)
    .catch(() => {
      view.outcomes = null;
      return [];
    });
  return view.outcomes;
}

/** The queues a conversation can be transferred to; only staff who may read them get the choice. */
async function queues() {
  view.queues ??= api('/api/desk/queues')
    .then((r) => r.queues)
    .catch(() => []);
  return view.queues;
}

async function skeleton(summary, topics) {
  const list = await outcomes();
  const targets = (await queues()).filter((q) => q.id !== summary.queueId);
  const chat = summary.channel === 'text';
  $('#desk-conversation').innerHTML = `<article class="panel conversation" data-call="${esc(summary.callId)}">
  <h3>Разговор: ${esc(chat ? 'чат' : 'звонок')} <small>${esc(summary.callId)}</small></h3>
  <p class="offer-facts"><span>Канал: <b>${esc(channelRu[summary.channel] ?? summary.channel)}</b></span>
    <span>Тема: <b>${esc(topics[summary.topicId] ?? summary.topicId ?? '—')}</b></span>
    <span>Абонент: <b class="conv-caller">—</b></span>
    <span>Принят: <b>${esc(when(summary.answeredAt))}</b></span></p>
  <p class="ended-banner" hidden></p>
  <div class="conv-briefings"></div>
  <div class="transcript conv-transcript" aria-live="polite"></div>
  <div class="conv-facts"></div>
  ${
    chat
      ? `<form class="conv-say"><label>Сообщение гражданину <textarea name="text" rows="2" required maxlength="1000"></textarea></label><button type="submit">Отправить</button></form>`
      : `<p class="hint">Разговор идёт по телефону; здесь записываются заметка и итог.</p>${phoneControlsHtml()}`
  }
  <form class="conv-note"><label>Заметка <textarea name="note" rows="2" maxlength="4000"></textarea></label><button type="submit">Сохранить заметку</button> <span class="hint note-saved"></span></form>
  <form class="conv-close"><label>Итог <select name="outcome" required><option value="">— выберите итог —</option>${list
    .map((o) => `<option value="${esc(o.id)}">${esc(o.title)}</option>`)
    .join('')}</select></label><button type="submit">Завершить</button></form>
  ${targets.length > 0 || !chat ? transferFormHtml(targets, chat) : ''}
  <p class="error" role="alert"></p>
  <details class="conv-history"><summary>Прежние обращения с этого номера</summary><div></div></details>
</article>`;
  const card = $('#desk-conversation .conversation');
  const problem = (err) => {
    card.querySelector('.error').textContent = err ? err.message : '';
  };
  const path = (act) => `/api/desk/conversations/${encodeURIComponent(summary.callId)}/${act}`;
  card.querySelector('.conv-say')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const box = event.target.elements.text;
    const text = box.value.trim();
    if (!text) return;
    try {
      await api(path('messages'), { method: 'POST', body: JSON.stringify({ text }) });
      box.value = '';
      problem(null);
      await load();
    } catch (err) {
      problem(err);
    }
  });
  card.querySelector('.conv-note').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api(path('note'), {
        method: 'POST',
        body: JSON.stringify({ note: event.target.elements.note.value }),
      });
      card.querySelector('.note-saved').textContent = 'сохранено';
      problem(null);
    } catch (err) {
      problem(err);
    }
  });
  card.querySelector('.conv-close').addEventListener('submit', async (event) => {
    event.preventDefault();
    const outcome = event.target.elements.outcome.value;
    const note = card.querySelector('.conv-note textarea').value;
    try {
      await api(path('close'), { method: 'POST', body: JSON.stringify({ outcome, note }) });
      problem(null);
      view.callId = null;
      await view.onClosed?.();
    } catch (err) {
      problem(err);
    }
  });
  wirePhone(card, {
    queues: targets,
    path,
    problem,
    reload: load,
    done: async () => {
      view.callId = null;
      await view.onClosed?.();
    },
  });
}

/** Re-reads the conversation (each push, and every 3 s as a safety net) and updates what changes. */
async function load() {
  const callId = view.callId;
  if (!callId) return;
  if (view.loading) {
    view.again = true;
    return;
  }
  view.loading = true;
  try {
    const c = await api(`/api/desk/conversations/${encodeURIComponent(callId)}`);
    const card = $('#desk-conversation .conversation');
    if (!card || card.dataset.call !== callId) return;
    card.querySelector('.conv-caller').textContent = c.caller ?? '—';
    const transcript = card.querySelector('.conv-transcript');
    const html = transcriptHtml(c.transcript);
    if (transcript.innerHTML !== html) {
      transcript.innerHTML = html;
      transcript.scrollTop = transcript.scrollHeight;
    }
    const briefings = card.querySelector('.conv-briefings');
    const briefingsNow = transfersHtml(c.transfers);
    if (briefings.innerHTML !== briefingsNow) briefings.innerHTML = briefingsNow;
    card.querySelector('.conv-facts').innerHTML =
      `${intentsHtml(c.intents)}${entitiesHtml(c.entities)}${answersHtml(c.answers)}`;
    const note = card.querySelector('.conv-note textarea');
    if (c.note && !note.value) note.value = c.note;
    const banner = card.querySelector('.ended-banner');
    banner.hidden = !c.callEnded;
    banner.textContent = c.channel === 'text' ? 'Гражданин покинул чат' : 'Звонок завершён';
    if (c.callEnded) for (const b of card.querySelectorAll('.conv-phone button')) b.disabled = true;
    const say = card.querySelector('.conv-say');
    if (say) for (const control of say.elements) control.disabled = Boolean(c.callEnded);
    const history = card.querySelector('.conv-history div');
    const historyHtmlNow = historyHtml(c.history);
    if (history.innerHTML !== historyHtmlNow) history.innerHTML = historyHtmlNow;
    const count = (c.history?.calls?.length ?? 0) + (c.history?.inquiries?.length ?? 0);
    card.querySelector('.conv-history summary').textContent = `Прежние обращения с этого номера: ${count}`;
  } catch (err) {
    const p = $('#desk-conversation .error');
    if (p) p.textContent = err.message;
  } finally {
    view.loading = false;
    if (view.again) {
      view.again = false;
      load();
    }
  }
}

export async function showConversation(summary, { topics, onClosed }) {
  view.onClosed = onClosed;
  if (view.callId !== summary.callId) {
    view.callId = summary.callId;
    await skeleton(summary, topics);
  }
  view.poll ??= setInterval(load, 3000);
  await load();
}

/** No open conversation: the panel says what the operator is doing (wrap-up, waiting for a call). */
export function closeConversationView(operator) {
  view.callId = null;
  clearInterval(view.poll);
  view.poll = null;
  const box = $('#desk-conversation');
  if (!box) return;
  if (operator?.state === 'wrap_up') {
    box.innerHTML =
      '<p class="panel wrap-up">Завершение обработки после разговора: новые вызовы начнут поступать через несколько секунд.</p>';
  } else if (operator?.state === 'offered') {
    // The offer above is what the operator looks at now.
    box.innerHTML = '';
  } else if (operator?.state === 'available') {
    box.innerHTML = '<p class="panel hint">Ожидание вызова. Новый вызов появится здесь.</p>';
  } else {
    box.innerHTML = '<p class="panel hint">Чтобы получать вызовы, нажмите «Доступен».</p>';
  }
}
