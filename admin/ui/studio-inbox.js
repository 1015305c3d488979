// «Входящие фразы» (the knowledge studio's inbox): what callers said that the bot did not understand, read
// with low confidence, was told was wrong, or that ended with an operator, grouped by similar wording with
// counts, examples and the conversation each came from (texts masked by the API). An editor adds a phrase to
// an intent, makes a new intent of a group, or dismisses it; supervisors read. The weekly figure shows the
// unrecognized share of the callers' turns.
import { api, esc, hasRole, state, when } from './lib.js';

const reasonRu = {
  not_understood: 'не понял',
  low_confidence: 'низкая уверенность',
  confirmed_wrong: '«нет» после уточнения',
  to_operator: 'ушёл к оператору',
};
const percent = (share) =>
  share === null ? '—' : `${(share * 100).toLocaleString('ru-RU', { maximumFractionDigits: 1 })} %`;
const times = (n) => (n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 12 || n % 100 > 14) ? 'раза' : 'раз');
const shortDay = (day) => day.split('-').reverse().slice(0, 2).join('.');

function layout(root) {
  root.innerHTML = `<p class="hint">Что звонящие говорили, а бот не понял, понял неуверенно, ошибся (абонент ответил «нет» на уточнение) или передал оператору. Похожие формулировки собраны в группы. Добавьте фразу в намерение — после переобучения бот будет её узнавать.</p>
    <form id="inbox-period" class="inline"><label>С <input type="date" name="from"></label><label>По <input type="date" name="to"></label><button type="submit">Показать</button></form>
    <p class="error" id="inbox-error" role="alert"></p><p id="inbox-status" role="status"></p>
    <h3>Доля нераспознанных реплик по неделям</h3>
    <ul id="inbox-weeks" class="bars"></ul>
    <h3 id="inbox-groups-title">Группы фраз</h3>
    <div id="inbox-groups"></div>`;
  root.querySelector('#inbox-period').addEventListener('submit', (event) => {
    event.preventDefault();
    void load(root);
  });
}

function weeksList(weeks) {
  const max = Math.max(0.0001, ...weeks.map((w) => w.share ?? 0));
  return weeks
    .map(
      (w) =>
        `<li data-week="${esc(w.week)}"><span class="bar-label">неделя с ${esc(shortDay(w.week))}</span><span class="bar"><span style="width:${Math.round(((w.share ?? 0) / max) * 100)}%"></span></span><span class="bar-value">${esc(percent(w.share))}${w.turns ? ` <small>(${w.unrecognized} из ${w.turns})</small>` : ' <small>(реплик нет)</small>'}</span></li>`,
    )
    .join('');
}

function intentOptions(intents, topics) {
  const titles = new Map(topics.map((t) => [t.id, t.title]));
  const byTopic = new Map();
  for (const i of intents) byTopic.set(i.topicId, [...(byTopic.get(i.topicId) ?? []), i]);
  return [...byTopic.entries()]
    .map(
      ([topic, list]) =>
        `<optgroup label="${esc(titles.get(topic) ?? topic)}">${list.map((i) => `<option value="${esc(i.id)}">${esc(i.title)}</option>`).join('')}</optgroup>`,
    )
    .join('');
}

function exampleItem(e, callLinks) {
  const link = callLinks
    ? `<a href="#call/${encodeURIComponent(e.callId)}">звонок</a>`
    : `<button type="button" class="link" data-conversation="${esc(e.callId)}">разговор</button>`;
  return `<li><q>${esc(e.text)}</q> <small>${esc(when(e.at))} · ${esc(reasonRu[e.reason] ?? e.reason)}${e.intent !== 'out_of_scope' ? ` · ${esc(e.intent)}${e.confidence === null ? '' : ` ${Math.round(e.confidence * 100)} %`}` : ''} · ${link}</small><div class="conversation" data-for="${esc(e.callId)}" hidden></div></li>`;
}

function groupCard(g, i, data, editable) {
  const reasons = Object.entries(g.reasons)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `<span class="chip">${esc(reasonRu[r] ?? r)}: ${n}</span>`)
    .join(' ');
  const guessed = g.guessedIntents.length
    ? `<p class="label">Бот предполагал: ${g.guessedIntents.map((x) => `${esc(x.title)} (${x.count})`).join(', ')}</p>`
    : '';
  const actions = editable
    ? `<form class="inbox-assign inline" data-group="${i}"><label>Фраза <input name="phrase" value="${esc(g.label)}" maxlength="500" required></label><label>Намерение <select name="intentId" required><option value="">— выберите —</option>${intentOptions(data.intents, data.topics)}</select></label><button type="submit">Добавить в намерение</button></form>
      <div class="inbox-buttons"><button type="button" data-new-intent="${i}">Новое намерение из группы</button> <button type="button" data-dismiss="${i}">Отклонить</button></div>
      <form class="inbox-new-intent" data-group="${i}" hidden><h4>Новое намерение</h4>
        <label>Код (латиница, цифры, точка, _) <input name="id" pattern="[a-z0-9_.]+" required></label>
        <label>Тема <select name="topicId" required><option value="">— выберите —</option>${data.topics.map((t) => `<option value="${esc(t.id)}">${esc(t.title)}</option>`).join('')}</select></label>
        <label>Название <input name="title" value="${esc(g.label)}" maxlength="200" required></label>
        <label>Обучающие фразы (по одной в строке) <textarea name="phrases" rows="4">${esc(g.texts.join('\n'))}</textarea></label>
        <button type="submit">Создать намерение</button></form>`
    : '';
  return `<article class="panel inbox-group" data-key="${esc(g.key)}"><h4 class="inbox-title"><q>${esc(g.label)}</q> <span class="count">${g.count} ${times(g.count)}, разговоров: ${g.calls}</span></h4>
    <p>${reasons}</p>${guessed}
    <ul class="examples">${g.examples.map((e) => exampleItem(e, data.callLinks)).join('')}</ul>
    ${actions}<p class="error" role="alert"></p></article>`;
}

async function showConversation(box, callId) {
  if (!box.hidden) {
    box.hidden = true;
    return;
  }
  const c = await api(`/api/kb/inbox/calls/${encodeURIComponent(callId)}`);
  box.innerHTML = `<div class="transcript">${c.turns
    .map(
      (t) =>
        `<p class="who-${esc(t.who)}"><b>${t.who === 'bot' ? 'Бот' : t.who === 'operator' ? 'Оператор' : 'Абонент'}:</b> ${esc(t.text)}${t.intent && t.who === 'caller' ? ` <small>[${esc(t.intent)}]</small>` : ''}</p>`,
    )
    .join('')}</div>`;
  box.hidden = false;
}

function bind(root, data) {
  const status = root.querySelector('#inbox-status');
  const act = async (card, work, done) => {
    const error = card.querySelector(':scope > .error');
    try {
      const result = await work();
      error.textContent = '';
      await load(root);
      status.textContent = done(result);
    } catch (err) {
      error.textContent = err.message;
    }
  };
  const post = (path, body) => api(path, { method: 'POST', body: JSON.stringify(body) });
  for (const form of root.querySelectorAll('form.inbox-assign')) {
    const g = data.groups[Number(form.dataset.group)];
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const f = new FormData(form);
      void act(
        form.closest('.inbox-group'),
        () =>
          post('/api/kb/inbox/assign', {
            intentId: f.get('intentId'),
            phrase: f.get('phrase'),
            keys: g.keys,
          }),
        (r) =>
          r.added
            ? `Фраза «${r.phrase}» добавлена в намерение «${r.title}». Модель переобучается.`
            : `Фраза «${r.phrase}» уже есть в намерении «${r.title}»; группа убрана из входящих.`,
      );
    });
  }
  for (const form of root.querySelectorAll('form.inbox-new-intent')) {
    const g = data.groups[Number(form.dataset.group)];
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const f = new FormData(form);
      const phrases = String(f.get('phrases'))
        .split('\n')
        .map((p) => p.trim())
        .filter(Boolean);
      void act(
        form.closest('.inbox-group'),
        () =>
          post('/api/kb/inbox/new-intent', {
            id: f.get('id'),
            topicId: f.get('topicId'),
            title: f.get('title'),
            phrases,
            keys: g.keys,
          }),
        (r) =>
          `Создано намерение «${r.title}» (${r.id}), обучающих фраз: ${r.phrases.length}. Модель переобучается.`,
      );
    });
  }
  for (const b of root.querySelectorAll('button[data-new-intent]')) {
    b.addEventListener('click', () => {
      const form = root.querySelector(`form.inbox-new-intent[data-group="${b.dataset.newIntent}"]`);
      form.hidden = !form.hidden;
    });
  }
  for (const b of root.querySelectorAll('button[data-dismiss]')) {
    const g = data.groups[Number(b.dataset.dismiss)];
    b.addEventListener('click', () =>
      act(
        b.closest('.inbox-group'),
        () => post('/api/kb/inbox/dismiss', { keys: g.keys, sample: g.label }),
        () => `Группа «${g.label}» отклонена.`,
      ),
    );
  }
  for (const b of root.querySelectorAll('button[data-conversation]')) {
    const box = b.closest('li').querySelector('.conversation');
    b.addEventListener('click', () =>
      showConversation(box, b.dataset.conversation).catch((err) => {
        box.hidden = false;
        box.textContent = err.message;
      }),
    );
  }
}

async function load(root) {
  const period = root.querySelector('#inbox-period');
  const form = new FormData(period);
  const error = root.querySelector('#inbox-error');
  root.querySelector('#inbox-status').textContent = '';
  // The first showing takes the server's period: the last 30 days of the region's calendar.
  const q = new URLSearchParams();
  for (const name of ['from', 'to']) if (form.get(name)) q.set(name, String(form.get(name)));
  let data;
  try {
    data = await api(`/api/kb/inbox${q.size ? `?${q}` : ''}`);
    period.elements.from.value = data.from;
    period.elements.to.value = data.to;
    error.textContent = '';
  } catch (err) {
    error.textContent = err.message;
    return;
  }
  root.querySelector('#inbox-weeks').innerHTML = weeksList(data.weeks);
  root.querySelector('#inbox-groups-title').textContent = `Группы фраз: ${data.groups.length}`;
  const editable = hasRole('editor', 'admin');
  root.querySelector('#inbox-groups').innerHTML =
    data.groups.map((g, i) => groupCard(g, i, data, editable)).join('') ||
    '<p>За период необработанных фраз нет.</p>';
  bind(root, data);
}

/** The «Входящие фразы» page (#inbox). */
export async function inboxPage() {
  const root = document.querySelector('#inbox-root');
  // Opened by a reload: who is signed in decides whether the editing buttons show.
  if (!state.user) state.user = (await api('/api/auth/me')).user;
  if (!root.querySelector('#inbox-period') || root.dataset.user !== state.user?.login) {
    layout(root);
    root.dataset.user = state.user?.login ?? '';
  }
  await load(root);
}
