// Staff web UI of Otklik: plain ES modules, no build step. All text is Russian.
import { auditPage } from './audit.js';
import { deskPage, stopDesk } from './desk.js';
import { incidentState, showIncidentTopicForm } from './incident-topic.js';
import { agreementActions, bindAgreementActions, deadlineNote, requestNote } from './inquiry-agreements.js';
import { historyPage } from './kb-history.js';
import { showLegalHold } from './legal-hold.js';
import { $, api, esc, hooks, state, when } from './lib.js';
import { qualityPage } from './quality.js';
import { reportsPage } from './reports.js';
import { applyNav, landingPage, mayOpen, pageFor, roleRu } from './roles.js';
import { staffPage } from './staff-admin.js';
import { answersPage, showApprovalFigures } from './studio-answers.js';
import { contentPage } from './studio-content.js';
import { inboxPage } from './studio-inbox.js';
import { intentsPage } from './studio-intents.js';
import { refsPage } from './studio-refs.js';
import { trainingPage } from './studio-training.js';
import { tryPage } from './studio-try.js';
import { usersPage } from './users-admin.js';
import { stopWall, wallPage } from './wall.js';

const outcomeRu = {
  answered: 'отвечено ботом',
  escalated: 'передано оператору',
  operator: 'разговор с оператором',
  forwarded: 'переадресовано',
  inquiry: 'зарегистрировано обращение',
  emergency: 'экстренная ситуация',
  abandoned: 'сброшен в очереди',
  hangup: 'абонент положил трубку',
  null: '—',
};
const statusRu = {
  draft: 'черновик',
  pending_approval: 'на согласовании',
  approved: 'согласовано',
  retired: 'в архиве',
};
const inquiryStatusRu = {
  registered: 'зарегистрировано',
  dispatched: 'передано уполномоченному лицу',
  answered: 'получен ответ',
  closed: 'закрыто',
};
const relayResultRu = {
  busy: 'занято',
  no_answer: 'не ответили',
  failed: 'сбой вызова',
  answered: 'ответили',
};

/** Where the agency's answer stands on its way back to the citizen (admin/plugins/calls.ts relayState). */
/** The agency's answer, or, while there is none, a form to write down what the agency replied. */
function answerCell(i) {
  if (i.answerText) return esc(i.answerText);
  if (i.status !== 'registered' && i.status !== 'dispatched') return '—';
  return `<form class="agency-answer" data-id="${esc(i.id)}"><label>Ответ уполномоченного лица <textarea name="text" required></textarea></label><button type="submit">Записать ответ</button></form>`;
}

/**
 * The agency the inquiry goes to; where no topic fitted there is none yet, and staff choose it here
 * (the inquiry is mailed only after that).
 */
function agencyCell(i, agencies) {
  if (i.agencyName) return esc(i.agencyName);
  if (i.status !== 'registered' || i.dispatchedAt) return '—';
  const options = agencies.map((a) => `<option value="${esc(a.id)}">${esc(a.name)}</option>`).join('');
  return `<form class="choose-agency" data-id="${esc(i.id)}"><p class="warn">Не выбрано: обращение не отправлено</p><label>Уполномоченное лицо <select name="agencyId" required><option value="">— выберите —</option>${options}</select></label><button type="submit">Передать</button></form>`;
}

/** An inquiry that did not reach its agency (inquiries/figures.ts dispatchStuckSql): a supervisor acts. */
function dispatchStuckText(i) {
  if (!i.dispatchStuck) return '';
  const why = i.dispatchError
    ? i.dispatchError
    : `срок передачи ${when(i.dispatchDueAt)} прошёл${i.dispatchAttempts ? `, неудачных попыток ${i.dispatchAttempts}` : ''}${i.dispatchLastError ? `, последняя ошибка: ${i.dispatchLastError}` : ''}`;
  return `<br><b class="bad">Не передано уполномоченному лицу</b> <small>${esc(why)}</small>`;
}

/** Where the callbacks did not reach the citizen: the number to call and a button once they were told. */
function relayAction(i) {
  if (i.relay !== 'to_operator') return '';
  return `<br>Телефон: <b>${esc(i.callbackNumber)}</b> <button type="button" data-relayed="${esc(i.id)}">Сообщил заявителю по телефону</button>`;
}

async function inquiryAction(element, path, body) {
  try {
    await api(path, { method: 'POST', body: JSON.stringify(body) });
    await pages.inquiries();
  } catch (err) {
    element.insertAdjacentHTML('afterend', `<p class="error">${esc(err.message)}</p>`);
  }
}

function relayText(i) {
  const attempts = `попыток ${i.relayAttempts}`;
  const last = relayResultRu[i.relayLastResult] ? `, последняя: ${relayResultRu[i.relayLastResult]}` : '';
  switch (i.relay) {
    case 'relayed':
      return `передан заявителю ${when(i.relayedAt)}${i.relayedBy ? ` (${i.relayedBy}, по телефону)` : ''}`;
    case 'to_operator':
      return `не дозвонились — позвонить вручную (${attempts}${last})`;
    case 'calling':
      return `${attempts}${last}; следующая ${when(i.relayNextAttemptAt)}`;
    case 'pending':
      return 'ожидает обратного звонка';
    default:
      return 'ответа ещё нет';
  }
}
const callStatusRu = { active: 'идёт', completed: 'завершён', interrupted: 'прерван сбоем' };
const partRu = {
  store: 'База данных',
  nlu: 'Понимание запросов',
  vad: 'Детектор речи',
  asr: 'Распознавание речи',
  tts: 'Синтез речи',
  speech: 'Речевые движки',
  telephony: 'Телефония',
  jobs: 'Фоновые задачи',
  mail: 'Почта обращений',
};
const healthRu = {
  ready: 'работает',
  degraded: 'частично',
  model_missing: 'нет модели',
  failed: 'сбой',
  off: 'выключено',
};

function signOut() {
  stopDesk();
  stopWall();
  state.token = null;
  state.user = null;
  sessionStorage.removeItem('otklik.token');
  $('#whoami').textContent = '';
  show('login');
}

/** Who is signed in, in the header; the menu shows only the pages the role may open (roles.js). */
function showUser(user) {
  state.user = user;
  $('#whoami').textContent = `${user.name} (${roleRu[user.role] ?? user.role})`;
  applyNav(user.role);
}
hooks.signedOut = signOut;

function show(page) {
  if (page !== 'wall') stopWall();
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== page;
  $('#nav').hidden = page === 'login';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
}

const pages = {
  desk: deskPage,
  wall: wallPage,
  staff: staffPage,
  quality: qualityPage,
  reports: reportsPage,
  history: historyPage,
  inbox: inboxPage,
  refs: refsPage,
  training: trainingPage,
  intents: intentsPage,
  try: tryPage,
  users: usersPage,
  audit: auditPage,
  content: contentPage,
  answers: answersPage,
  async overview() {
    showApprovalFigures($('#approval-figures'));
    const data = await api('/api/overview');
    $('#health').innerHTML = Object.entries(data.health.components)
      .map(
        ([name, c]) =>
          `<div class="card"><span>${esc(partRu[name] ?? name)}</span><b class="${c.status === 'ready' ? 'ok' : c.status === 'off' ? 'warn' : 'bad'}">${esc(healthRu[c.status] ?? c.status)}</b>${c.message ? `<small>${esc(c.message)}</small>` : ''}</div>`,
      )
      .join('');
    const q = data.queue;
    $('#queue').innerHTML = [
      ['Ожидают', q.waiting],
      ['Свободных операторов', q.operatorsAvailable],
      ['Норматив ожидания, с', Math.round(q.waitNormMs / 1000)],
    ]
      .map(([label, value]) => `<div class="card"><span>${esc(label)}</span><b>${esc(value)}</b></div>`)
      .join('');
    const f = data.today;
    $('#figures').innerHTML = [
      ['Всего звонков', f.calls],
      ['Отвечено ботом', f.answered],
      ['Передано операторам', f.escalated],
      ['Переадресовано уполномоченным лицам', f.forwarded],
      ['Зарегистрировано обращений', f.inquiries],
      ['Экстренные (112/103)', f.emergency],
      ['Потеряно сверх норматива ожидания', f.lostPastNorm],
      ['Средняя оценка качества', f.surveyAverage ?? '—'],
    ]
      .map(([label, value]) => `<tr><th>${esc(label)}</th><td>${esc(value)}</td></tr>`)
      .join('');
    const n = data.inquiries;
    $('#inquiry-figures').innerHTML = [
      ['Всего обращений', n.registered],
      ['Не переданы уполномоченным лицам — нужны действия', n.dispatchStuck, n.dispatchStuck > 0],
      ['Переданы уполномоченным лицам с опозданием', n.dispatchedLate],
      ['Ждут ответа уполномоченного лица', n.waitingForAgency],
      ['Ответ просрочен уполномоченным лицом', n.agencyOverdue],
      ['Получен ответ', n.answered],
      ['Ответ передан заявителю', n.relayed],
      ['Ответ ждёт обратного звонка', n.awaitingRelay],
      ['Не дозвонились — позвонить вручную', n.relayToOperator],
    ]
      .map(
        ([label, value, alarm]) =>
          `<tr${alarm ? ' class="bad"' : ''}><th>${esc(label)}</th><td>${esc(value)}</td></tr>`,
      )
      .join('');
  },
  async inquiries() {
    const [{ inquiries }, { agencies }] = await Promise.all([api('/api/inquiries'), api('/api/agencies')]);
    $('#inquiries-table tbody').innerHTML =
      inquiries
        .map(
          (i) =>
            `<tr data-id="${esc(i.id)}" class="relay-${esc(i.relay)}${i.dispatchStuck ? ' dispatch-stuck' : ''}"><td>${esc(i.id)}${requestNote(i)}</td><td>${esc(when(i.receivedAt))}</td><td>${esc(i.question)}${i.topicTitle ? `<br><small>${esc(i.topicTitle)}</small>` : ''}</td><td class="agency">${agencyCell(i, agencies)}${agreementActions(i, agencies)}</td><td>${esc(inquiryStatusRu[i.status] ?? i.status)}${deadlineNote(i)}${dispatchStuckText(i)}</td><td>${answerCell(i)}</td><td class="relay">${esc(relayText(i))}${relayAction(i)}</td></tr>`,
        )
        .join('') || '<tr><td colspan="7">Обращений пока нет</td></tr>';
    for (const form of document.querySelectorAll('#inquiries-table form.choose-agency')) {
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const agencyId = new FormData(form).get('agencyId');
        await inquiryAction(form, `/api/inquiries/${form.dataset.id}/agency`, { agencyId });
      });
    }
    for (const form of document.querySelectorAll('#inquiries-table form.agency-answer')) {
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const text = new FormData(form).get('text');
        await inquiryAction(form, `/api/inquiries/${form.dataset.id}/answer`, { text });
      });
    }
    bindAgreementActions($('#inquiries-table'), inquiryAction);
    for (const button of document.querySelectorAll('#inquiries-table button[data-relayed]')) {
      button.addEventListener('click', () =>
        inquiryAction(button, `/api/inquiries/${button.dataset.relayed}/relayed`, {}),
      );
    }
  },
  async calls() {
    const { calls } = await api('/api/calls?limit=50');
    $('#calls-table tbody').innerHTML =
      calls
        .map(
          (c) =>
            `<tr class="clickable" data-id="${esc(c.id)}"><td>${esc(new Date(c.startedAt).toLocaleString('ru-RU'))}</td><td>${esc(c.channel)}</td><td>${esc(c.caller)}</td><td>${esc(outcomeRu[c.outcome] ?? c.outcome)}</td><td>${esc(callStatusRu[c.status] ?? c.status)}</td></tr>`,
        )
        .join('') || '<tr><td colspan="5">Звонков пока нет</td></tr>';
    for (const row of document.querySelectorAll('#calls-table tr.clickable')) {
      row.addEventListener('click', () => showCall(row.dataset.id));
    }
  },
  async kb() {
    const { answers } = await api('/api/kb/answers');
    $('#answers').innerHTML = answers
      .map(
        (a) =>
          `<div class="answer"><h3>${esc(a.title)} <small>${esc(a.intentId)}</small></h3>${a.versions
            .map(
              (
                v,
              ) => `<div><span class="status ${esc(v.status)}">v${v.version}: ${esc(statusRu[v.status] ?? v.status)}</span> ${esc(v.speech)}
          ${v.approvedBy ? `<small>согласовал(а) ${esc(v.approvedBy)}</small>` : ''}
          ${v.status === 'pending_approval' ? `<button data-act="approve" data-intent="${esc(a.intentId)}" data-version="${v.version}">Согласовать</button>` : ''}
          ${v.status === 'draft' ? `<button data-act="submit" data-intent="${esc(a.intentId)}" data-version="${v.version}">На согласование</button>` : ''}</div>`,
            )
            .join('')}</div>`,
      )
      .join('');
    for (const b of document.querySelectorAll('#answers button')) {
      b.addEventListener('click', async () => {
        try {
          await api(
            `/api/kb/answers/${encodeURIComponent(b.dataset.intent)}/versions/${b.dataset.version}/${b.dataset.act}`,
            { method: 'POST', body: '{}' },
          );
          await pages.kb();
        } catch (err) {
          // Said next to the button: e.g. the script belongs to another agency's topic.
          b.insertAdjacentHTML('afterend', `<p class="error" role="alert">${esc(err.message)}</p>`);
        }
      });
    }
  },
  async incidents() {
    const { incidents } = await api('/api/incidents');
    $('#incident-list').innerHTML =
      incidents
        .map(
          (i) =>
            `<li data-incident="${esc(i.id)}"><b>${esc(i.title)}</b> (${incidentState(i)}): ${esc(i.announcement)}</li>`,
        )
        .join('') || '<li>Активных инцидентов нет</li>';
    await showIncidentTopicForm(pages.incidents);
  },
};

async function showCall(id) {
  const { call, turns } = await api(`/api/calls/${encodeURIComponent(id)}`);
  $('#call-detail').innerHTML =
    `<h3>Звонок ${esc(call.id)}</h3><p class="caller">Абонент: <b>${esc(call.callerNumber ?? '—')}</b></p>${await operatorPart(call)}<div class="transcript">${turns
      .map(
        (t) =>
          `<p class="who-${esc(t.who)}"><b>${t.who === 'bot' ? 'Бот' : t.who === 'operator' ? 'Оператор' : 'Абонент'}:</b> ${esc(t.text)}${t.intent ? ` <small>[${esc(t.intent)}${t.answerVersion ? `, ${esc(t.answerVersion)}` : ''}]</small>` : ''}</p>`,
      )
      .join('')}</div><div id="call-legal-hold"></div><div id="call-recordings"></div>`;
  showLegalHold($('#call-legal-hold'), call);
  if (state.user && ['supervisor', 'admin'].includes(state.user.role)) {
    // Quality control: the call's recording and transcript beside the checklist (quality.js).
    if (call.operator) {
      $('#call-legal-hold').insertAdjacentHTML(
        'beforebegin',
        '<p><a href="#quality" id="call-score">Оценить по чек-листу</a></p>',
      );
      $('#call-score').addEventListener('click', () => {
        state.scoreCall = id;
      });
    }
    await showRecordings(id);
  }
}

/** Who of the operators took the call, how they closed it and their note (the desk's close). */
async function operatorPart(call) {
  if (!call.operator) return '';
  const { outcomes } = await api('/api/desk/outcomes').catch(() => ({ outcomes: [] }));
  const title = outcomes.find((o) => o.id === call.operatorOutcome)?.title ?? call.operatorOutcome ?? '—';
  return `<dl class="operator-close"><dt>Оператор</dt><dd>${esc(call.operator.name ?? call.operator.id)}</dd><dt>Итог оператора</dt><dd>${esc(title)}</dd><dt>Заметка</dt><dd>${esc(call.operatorNote || '—')}</dd></dl>`;
}

/** Recordings of a call: fetched with the staff token (every listen is audited), played from a blob. */
async function showRecordings(callId) {
  const { recordings } = await api(`/api/calls/${encodeURIComponent(callId)}/recordings`);
  const box = $('#call-recordings');
  if (recordings.length === 0) {
    box.innerHTML = '<p>Записей разговора нет.</p>';
    return;
  }
  box.innerHTML = `<h4>Записи разговора</h4><ul>${recordings
    .map(
      (r) =>
        `<li>${esc(new Date(r.startedAt).toLocaleString('ru-RU'))}, ${r.durationMs ? `${Math.round(r.durationMs / 1000)} с` : 'идёт запись'} <button type="button" data-recording="${esc(r.id)}">Прослушать</button></li>`,
    )
    .join('')}</ul><p class="error" id="recording-error"></p>`;
  for (const button of box.querySelectorAll('button[data-recording]')) {
    button.addEventListener('click', async () => {
      const res = await fetch(`/api/recordings/${encodeURIComponent(button.dataset.recording)}/audio`, {
        headers: { authorization: `Bearer ${state.token}` },
      });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        $('#recording-error').textContent = body.message ?? `Ошибка ${res.status}`;
        return;
      }
      const audio = document.createElement('audio');
      audio.controls = true;
      audio.src = URL.createObjectURL(await res.blob());
      button.replaceWith(audio);
    });
  }
}

async function route() {
  if (!state.token || !state.user) return show('login');
  // A page the role may not open (or none) leads to the role's landing page (roles.js).
  const requested = location.hash.slice(1);
  // `call/<id>` (a link to one call, e.g. from the inbox) is the call list's page for permissions.
  const callLink = requested.startsWith('call/') && mayOpen(state.user.role, 'calls');
  const page = callLink ? requested : pageFor(state.user.role, requested, (p) => Boolean(pages[p]));
  if (page !== requested) history.replaceState(null, '', `#${page}`);
  if (page.startsWith('call/')) {
    // A link to one call (the inbox's examples): its card under the call list.
    show('calls');
    await pages.calls().catch((err) => console.error(err));
    return showCall(decodeURIComponent(page.slice(5))).catch((err) => console.error(err));
  }
  show(page);
  try {
    await pages[page]?.();
  } catch (err) {
    console.error(err);
  }
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  // The last attempt's message goes as this one starts (a stale «неверный пароль» must not read as the answer
  // to this one), and the button waits for the answer: a second press would be a second counted attempt.
  const button = event.target.querySelector('button[type=submit]');
  $('#login-error').textContent = '';
  button.disabled = true;
  let signedIn;
  try {
    signedIn = await api('/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ login: form.get('login'), password: form.get('password') }),
    });
  } catch (err) {
    $('#login-error').textContent = err.message;
    return;
  } finally {
    // Free again once the answer is in, not once the landing page has loaded: a sign-out and the next
    // person's sign-in may come before that.
    button.disabled = false;
  }
  state.token = signedIn.token;
  sessionStorage.setItem('otklik.token', signedIn.token);
  showUser(signedIn.user);
  // Each role starts on the page of its work.
  history.replaceState(null, '', `#${landingPage(signedIn.user.role)}`);
  await route();
});

$('#incident-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await api('/api/incidents', {
      method: 'POST',
      body: JSON.stringify({
        title: form.get('title'),
        announcement: form.get('announcement'),
        level: form.get('level'),
        durationHours: Number(form.get('hours')),
      }),
    });
    event.target.reset();
    $('#incident-error').textContent = '';
    await pages.incidents();
  } catch (err) {
    $('#incident-error').textContent = err.message;
  }
});

$('#logout').addEventListener('click', async () => {
  await api('/api/auth/logout', { method: 'POST', body: '{}' }).catch(() => {});
  signOut();
});
window.addEventListener('hashchange', route);

if (state.token) {
  api('/api/auth/me')
    .then(({ user }) => showUser(user))
    .catch(() => {})
    .then(route);
} else route();
