// «Темы и намерения» (#intents): the editors' list of topics and intents with phrase counts and the F1 of
// the last model evaluation (GET /api/nlu/evaluation/latest; «нет оценки» where there is none), and an
// intent's card: its training phrases, added one by one or pasted as a list and flagged against the KB
// («уже есть», «есть в намерении …»), rename, merge and retire with a confirmation. Approvers and
// supervisors see the same without the buttons. API: admin/plugins/studio-intents.ts.
import { $, api, esc, hasRole, state } from './lib.js';

const handlingRu = {
  answer: 'ответ',
  operator: 'оператору',
  forward: 'переадресация',
  system: 'служебное',
};

const view = { topics: [], f1: null, open: null, pending: [] };

function ensureStyles() {
  if (document.querySelector('link[href="/studio-intents.css"]')) return;
  document.head.insertAdjacentHTML('beforeend', '<link rel="stylesheet" href="/studio-intents.css">');
}

/** The F1 of the last evaluation by intent, or null when no model was evaluated (or the route is absent). */
async function loadF1() {
  try {
    const { perIntent } = await api('/api/nlu/evaluation/latest');
    return new Map((perIntent ?? []).map((p) => [p.intent, p.f1]));
  } catch {
    return null;
  }
}

const f1Text = (id) => {
  const f1 = view.f1?.get(id);
  return typeof f1 === 'number' ? f1.toFixed(2).replace('.', ',') : 'нет оценки';
};

const canWrite = () => hasRole('editor', 'admin');

function say(text, bad = false) {
  $('#intents-status').textContent = bad ? '' : text;
  $('#intents-error').textContent = bad ? text : '';
}

async function act(work, done) {
  try {
    const result = await work();
    say(typeof done === 'function' ? done(result) : done);
    return result;
  } catch (err) {
    say(err.message, true);
    return null;
  }
}

const post = (path, body = {}) => api(path, { method: 'POST', body: JSON.stringify(body) });
const enc = encodeURIComponent;

/** Asks in place (below `anchor`) and resolves true on «yes». */
function confirmHere(anchor, text, yes) {
  document.querySelector('.studio-confirm')?.remove();
  anchor.insertAdjacentHTML(
    'afterend',
    `<div class="studio-confirm" role="alertdialog" aria-label="Подтверждение"><p>${esc(text)}</p><button type="button" data-yes>${esc(yes)}</button> <button type="button" data-no>Отмена</button></div>`,
  );
  const box = anchor.nextElementSibling;
  return new Promise((resolve) => {
    box.addEventListener('click', (event) => {
      const b = event.target.closest('button');
      if (!b) return;
      box.remove();
      resolve(b.dataset.yes !== undefined);
    });
  });
}

function layout(root) {
  const participants = new Map();
  for (const t of view.topics) if (t.participantId) participants.set(t.participantId, t.participantName);
  const topicOptions = view.topics
    .filter((t) => t.editable && !t.retired)
    .map((t) => `<option value="${esc(t.id)}">${esc(t.title)}</option>`)
    .join('');
  // An editor of an agency creates topics of her own participant only (the API holds her to it).
  const own = hasRole('admin') ? null : (state.user?.agency ?? null);
  const participantOptions = [...participants]
    .filter(([id]) => !own || id === own)
    .map(([id, name]) => `<option value="${esc(id)}">${esc(name ?? id)}</option>`)
    .join('');
  const forms = canWrite()
    ? `<div class="studio-new">
      <details><summary>Новая тема</summary><form id="topic-form">
        <label>Код темы <input name="id" required pattern="[a-z0-9_.]+" placeholder="heating" autocomplete="off"></label>
        <label>Название <input name="title" required maxlength="200"></label>
        <label>Ведомство <select name="participant">${own ? '' : '<option value="">— не указано —</option>'}${participantOptions}</select></label>
        <button type="submit">Создать тему</button></form></details>
      <details><summary>Новое намерение</summary><form id="intent-form">
        <label>Тема <select name="topicId" required>${topicOptions}</select></label>
        <label>Код намерения <input name="id" required pattern="[a-z0-9_.]+" placeholder="heating.outage" autocomplete="off"></label>
        <label>Название <input name="title" required maxlength="200"></label>
        <label>Обучающие фразы, по одной в строке <textarea name="phrases" rows="3"></textarea></label>
        <button type="submit">Создать намерение</button></form></details>
    </div>`
    : '';
  root.innerHTML = `<p class="hint">Фразы, по которым бот узнаёт вопрос. Изменения вступают в силу после переобучения модели; F1 — качество распознавания намерения по последней оценке модели.</p>
    <p id="intents-status" role="status"></p><p class="error" id="intents-error" role="alert"></p>
    ${forms}
    <div class="studio-split"><div id="studio-topics"></div><div id="intent-card"></div></div>`;
}

function topicBlock(t) {
  const buttons = t.editable
    ? `<span class="studio-buttons"><button type="button" data-topic-rename="${esc(t.id)}">Переименовать</button> ${
        t.retired
          ? `<button type="button" data-topic-restore="${esc(t.id)}">Вернуть тему</button>`
          : `<button type="button" data-topic-retire="${esc(t.id)}">Тему в архив</button>`
      }</span>`
    : '';
  const rows =
    t.intents
      .map(
        (i) =>
          `<tr data-intent="${esc(i.id)}"${i.retired || t.retired ? ' class="retired"' : ''}><td><button type="button" class="link" data-open="${esc(i.id)}">${esc(i.title)}</button><br><small>${esc(i.id)}${i.mergedInto ? ` → объединено с ${esc(i.mergedInto)}` : i.retired ? ' · в архиве' : ''}</small></td><td class="num">${i.phrases}</td><td class="num f1">${esc(f1Text(i.id))}</td><td>${esc(handlingRu[i.handling] ?? i.handling)}</td></tr>`,
      )
      .join('') || '<tr><td colspan="4">Намерений пока нет</td></tr>';
  return `<section class="studio-topic${t.retired ? ' retired' : ''}" data-topic="${esc(t.id)}">
    <h3><span class="topic-title">${esc(t.title)}</span> <small>${esc(t.id)}${t.participantName ? ` · ${esc(t.participantName)}` : ''}${t.retired ? ' · в архиве' : ''}</small></h3>
    ${buttons}
    <form class="topic-rename" hidden><label>Новое название темы <input name="title" value="${esc(t.title)}" required maxlength="200"></label><button type="submit">Сохранить</button> <button type="button" data-cancel>Отмена</button></form>
    <div class="table-scroll"><table class="studio-intents"><thead><tr><th>Намерение</th><th>Фраз</th><th>F1</th><th>Обработка</th></tr></thead><tbody>${rows}</tbody></table></div>
  </section>`;
}

function renderTopics() {
  $('#studio-topics').innerHTML = view.topics.map(topicBlock).join('') || '<p>Тем пока нет</p>';
}

async function reload() {
  const [{ topics }, f1] = await Promise.all([api('/api/kb/topics'), loadF1()]);
  view.topics = topics;
  view.f1 = f1;
  renderTopics();
}

const flagText = (f) =>
  f.status === 'duplicate'
    ? 'уже есть'
    : f.status === 'other_intent'
      ? `есть в намерении ${f.intent}`
      : 'новая';

function showFlags(flags) {
  $('#phrase-flags').innerHTML = flags.length
    ? `<ul class="phrase-flags">${flags
        .map(
          (f) =>
            `<li class="flag-${esc(f.status)}">«${esc(f.text)}» — <b>${esc(flagText(f))}</b>${f.intentTitle ? ` <small>(${esc(f.intentTitle)})</small>` : ''}</li>`,
        )
        .join('')}</ul>`
    : '';
}

/** What an add did, in words, with «Всё равно добавить» for the phrases that wait for the editor. */
function showAdded(result) {
  view.pending = result.needsConfirmation.map((n) => n.text);
  const parts = [`Добавлено фраз: ${result.added.length}.`];
  if (result.skipped.length)
    parts.push(`Не добавлены: ${result.skipped.map((t) => `«${t}» — уже есть`).join('; ')}.`);
  showFlags([
    ...result.skipped.map((text) => ({ text, status: 'duplicate' })),
    ...result.needsConfirmation.map((n) => ({ ...n, status: 'other_intent' })),
  ]);
  if (view.pending.length) {
    parts.push('Фразы других намерений ждут подтверждения.');
    $('#phrase-flags').insertAdjacentHTML(
      'beforeend',
      `<button type="button" id="phrase-confirm">Всё равно добавить (${view.pending.length})</button>`,
    );
  }
  return parts.join(' ');
}

async function openIntent(id) {
  const { intent: i } = await api(`/api/kb/intents/${enc(id)}`);
  view.open = i;
  const topic = view.topics.find((t) => t.id === i.topicId);
  const editable = Boolean(topic?.editable) && !i.retired && !i.topicRetired;
  const targets = view.topics
    .filter((t) => t.editable && !t.retired)
    .flatMap((t) =>
      t.intents.filter((x) => !x.retired && x.id !== i.id).map((x) => ({ ...x, topic: t.title })),
    )
    .map((x) => `<option value="${esc(x.id)}">${esc(x.title)} (${esc(x.id)})</option>`)
    .join('');
  const state = i.mergedInto
    ? `объединено с ${esc(i.mergedInto)}, в архиве`
    : i.retired || i.topicRetired
      ? 'в архиве: не обучается и не распознаётся'
      : 'действует';
  const phrases =
    i.phrases
      .map(
        (p) =>
          `<li><span>${esc(p)}</span>${editable ? ` <button type="button" class="remove" data-remove="${esc(p)}" aria-label="Убрать фразу «${esc(p)}»" title="Убрать">×</button>` : ''}</li>`,
      )
      .join('') || '<li>Фраз нет</li>';
  $('#intent-card').innerHTML = `<article class="intent-card" data-intent="${esc(i.id)}">
    <h3 id="intent-card-title">${esc(i.title)} <small>${esc(i.id)}</small></h3>
    <p>Тема: ${esc(i.topicTitle)} · фраз: ${i.phrases.length} · F1: <b>${esc(f1Text(i.id))}</b> · ${state}</p>
    ${
      editable
        ? `<form id="intent-rename"><label>Название <input name="title" value="${esc(i.title)}" required maxlength="200"></label><button type="submit">Переименовать</button></form>
    <form id="phrase-one"><label>Новая фраза <input name="text" required maxlength="500" autocomplete="off"></label><button type="submit">Добавить фразу</button></form>
    <form id="phrase-paste"><label>Фразы списком, по одной в строке <textarea name="text" rows="4"></textarea></label><button type="button" id="phrase-check">Проверить</button> <button type="submit">Добавить списком</button></form>`
        : ''
    }
    <div id="phrase-flags"></div>
    <h4>Обучающие фразы</h4><ol id="phrases" class="phrase-list">${phrases}</ol>
    ${
      editable
        ? `<div class="studio-danger"><label>Объединить с намерением <select id="merge-into">${targets}</select></label><button type="button" id="intent-merge">Объединить…</button>
      <p><button type="button" id="intent-retire">Намерение в архив…</button></p></div>`
        : topic?.editable && i.retired && !i.topicRetired
          ? '<p><button type="button" id="intent-restore">Вернуть из архива</button></p>'
          : ''
    }</article>`;
  bindCard(i);
}

const lines = (text) =>
  String(text)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

async function addPhrases(i, phrases, confirm = false) {
  const result = await act(
    () => post(`/api/kb/intents/${enc(i.id)}/phrases`, { phrases, confirm }),
    (r) => `«${i.title}»: ${showAdded(r)}`,
  );
  if (!result) return;
  const note = $('#phrase-flags').innerHTML;
  const status = $('#intents-status').textContent;
  await reload();
  await openIntent(i.id);
  $('#phrase-flags').innerHTML = note;
  $('#intents-status').textContent = status;
}

function bindCard(i) {
  const card = $('#intent-card .intent-card');
  card.querySelector('#intent-rename')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const title = event.target.elements.title.value.trim();
    if (
      await act(
        () => post(`/api/kb/intents/${enc(i.id)}/rename`, { title }),
        `Намерение переименовано: «${title}»`,
      )
    ) {
      await reload();
      await openIntent(i.id);
    }
  });
  card.querySelector('#phrase-one')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    await addPhrases(i, [event.target.elements.text.value]);
  });
  card.querySelector('#phrase-paste')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const phrases = lines(event.target.elements.text.value);
    if (phrases.length) await addPhrases(i, phrases);
  });
  card.querySelector('#phrase-check')?.addEventListener('click', async () => {
    const phrases = lines(card.querySelector('#phrase-paste textarea').value);
    if (!phrases.length) return;
    const r = await act(() => post(`/api/kb/intents/${enc(i.id)}/phrases/check`, { phrases }), 'Проверено');
    if (r) showFlags(r.flags);
  });
  card.addEventListener('click', async (event) => {
    const b = event.target.closest('button');
    if (!b) return;
    if (b.id === 'phrase-confirm') await addPhrases(i, view.pending, true);
    else if (b.dataset.remove !== undefined) {
      const text = b.dataset.remove;
      if (
        await act(
          () => post(`/api/kb/intents/${enc(i.id)}/phrases/remove`, { text }),
          `Фраза «${text}» убрана`,
        )
      ) {
        await reload();
        await openIntent(i.id);
      }
    } else if (b.id === 'intent-merge') {
      const into = card.querySelector('#merge-into').value;
      if (!into) return;
      const ok = await confirmHere(
        b,
        `Объединить «${i.title}» с «${into}»? Фразы перейдут в ${into}, ответы «${i.title}» будут сняты, само намерение уйдёт в архив.`,
        'Да, объединить',
      );
      const r = ok
        ? await act(
            () => post(`/api/kb/intents/${enc(i.id)}/merge`, { into }),
            (m) =>
              `«${i.title}» объединено с ${into}: перенесено фраз ${m.moved}, повторов отброшено ${m.dropped}`,
          )
        : null;
      if (r) {
        await reload();
        await openIntent(into);
      }
    } else if (b.id === 'intent-retire' || b.id === 'intent-restore') {
      const retire = b.id === 'intent-retire';
      if (
        retire &&
        !(await confirmHere(
          b,
          `Отправить «${i.title}» в архив? Оно перестанет обучаться и распознаваться, ответ не будет озвучиваться.`,
          'Да, в архив',
        ))
      )
        return;
      const path = `/api/kb/intents/${enc(i.id)}/${retire ? 'retire' : 'restore'}`;
      if (await act(() => post(path), retire ? `«${i.title}» в архиве` : `«${i.title}» снова действует`)) {
        await reload();
        await openIntent(i.id);
      }
    }
  });
}

function bindPage(root) {
  root.querySelector('#topic-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    const body = {
      id: f.id.value.trim(),
      title: f.title.value.trim(),
      participant: f.participant.value || null,
    };
    if (await act(() => post('/api/kb/topics', body), `Тема «${body.title}» создана`)) {
      event.target.reset();
      await reload();
      layoutForms(root);
    }
  });
  root.querySelector('#intent-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    const body = {
      id: f.id.value.trim(),
      topicId: f.topicId.value,
      title: f.title.value.trim(),
      phrases: lines(f.phrases.value),
    };
    if (await act(() => post('/api/kb/intents', body), `Намерение «${body.title}» создано`)) {
      event.target.reset();
      await reload();
      await openIntent(body.id);
    }
  });
  root.querySelector('#studio-topics').addEventListener('click', async (event) => {
    const b = event.target.closest('button');
    if (!b) return;
    const section = b.closest('.studio-topic');
    if (b.dataset.open) {
      await openIntent(b.dataset.open);
      $('#intent-card').scrollIntoView({ block: 'start' });
    } else if (b.dataset.topicRename) {
      section.querySelector('.topic-rename').hidden = false;
    } else if (b.dataset.cancel !== undefined) {
      section.querySelector('.topic-rename').hidden = true;
    } else if (b.dataset.topicRetire || b.dataset.topicRestore) {
      const id = b.dataset.topicRetire ?? b.dataset.topicRestore;
      const t = view.topics.find((x) => x.id === id);
      const retire = Boolean(b.dataset.topicRetire);
      if (
        retire &&
        !(await confirmHere(b, `Отправить тему «${t.title}» в архив вместе с её намерениями?`, 'Да, в архив'))
      )
        return;
      if (
        await act(
          () => post(`/api/kb/topics/${enc(id)}/${retire ? 'retire' : 'restore'}`),
          retire ? `Тема «${t.title}» в архиве` : `Тема «${t.title}» снова действует`,
        )
      )
        await reload();
    }
  });
  root.querySelector('#studio-topics').addEventListener('submit', async (event) => {
    event.preventDefault();
    const section = event.target.closest('.studio-topic');
    const title = event.target.elements.title.value.trim();
    if (
      await act(
        () => post(`/api/kb/topics/${enc(section.dataset.topic)}/rename`, { title }),
        `Тема переименована: «${title}»`,
      )
    )
      await reload();
  });
}

/** The topic select of «Новое намерение» follows the topics (a new one can take intents at once). */
function layoutForms(root) {
  const select = root.querySelector('#intent-form select[name="topicId"]');
  if (!select) return;
  select.innerHTML = view.topics
    .filter((t) => t.editable && !t.retired)
    .map((t) => `<option value="${esc(t.id)}">${esc(t.title)}</option>`)
    .join('');
}

export async function intentsPage() {
  ensureStyles();
  const root = $('#intents-root');
  const [{ topics }, f1] = await Promise.all([api('/api/kb/topics'), loadF1()]);
  view.topics = topics;
  view.f1 = f1;
  layout(root);
  renderTopics();
  bindPage(root);
  if (view.open) await openIntent(view.open.id).catch(() => {});
}
