// «Справочники»: the knowledge studio's reference data in three tabs — agencies with their contacts and the
// schedules they work by (and whether each is open at a chosen local date and time), the production calendar,
// and the operators' outcome codes. Editors change them (each save checked by the server, its reason shown);
// approvers and supervisors see them as they stand.
import { api, esc, hasRole } from './lib.js';

const tabs = [
  ['refs-agencies', 'Уполномоченные лица и расписания'],
  ['refs-calendar', 'Производственный календарь'],
  ['refs-outcomes', 'Коды результатов'],
];
const days = [
  ['mon', 'Пн'],
  ['tue', 'Вт'],
  ['wed', 'Ср'],
  ['thu', 'Чт'],
  ['fri', 'Пт'],
  ['sat', 'Сб'],
  ['sun', 'Вс'],
];
const weekdayRu = ['вс', 'пн', 'вт', 'ср', 'чт', 'пт', 'сб'];
const kindRu = { holiday: 'выходной (праздник)', working_day: 'рабочий (перенос)', short_day: 'сокращённый' };

const localNow = () => {
  const d = new Date(Date.now() - new Date().getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

/** A message under the form: what was saved, or the server's reason for refusing. */
function notice(box, err, done) {
  box.querySelector('.refs-error').textContent = err ? err.message : '';
  box.querySelector('.refs-saved').textContent = err ? '' : done;
}
const messages = '<p class="error refs-error" role="alert"></p><p class="refs-saved" role="status"></p>';

export async function refsPage() {
  const root = document.querySelector('#refs-root');
  if (!root.querySelector('.tabs')) {
    root.innerHTML = `<div class="tabs" role="tablist">${tabs
      .map(
        ([id, title], i) =>
          `<button type="button" role="tab" data-tab="${id}" aria-selected="${i === 0}">${title}</button>`,
      )
      .join(
        '',
      )}</div>${tabs.map(([id], i) => `<div id="${id}" role="tabpanel"${i ? ' hidden' : ''}></div>`).join('')}`;
    for (const tab of root.querySelectorAll('[role=tab]'))
      tab.addEventListener('click', () => void openTab(root, tab.dataset.tab));
  }
  const current = root.querySelector('[role=tab][aria-selected=true]').dataset.tab;
  await openTab(root, current);
}

async function openTab(root, id) {
  for (const tab of root.querySelectorAll('[role=tab]'))
    tab.setAttribute('aria-selected', String(tab.dataset.tab === id));
  for (const panel of root.querySelectorAll('[role=tabpanel]')) panel.hidden = panel.id !== id;
  const panel = root.querySelector(`#${id}`);
  const editable = hasRole('editor', 'admin');
  if (id === 'refs-agencies') await agenciesTab(panel, editable);
  if (id === 'refs-calendar') await calendarTab(panel, editable);
  if (id === 'refs-outcomes') await outcomesTab(panel, editable);
}

// ---- agencies and schedules ----

const hoursText = (s) =>
  s.alwaysOpen
    ? 'круглосуточно'
    : days
        .filter(([d]) => s.weekly[d]?.length)
        .map(([d, ru]) => `${ru} ${s.weekly[d].join(', ')}`)
        .join('; ');

function openText(a) {
  const next = a.nextChange
    ? new Date(a.nextChange).toLocaleString('ru-RU', {
        dateStyle: 'short',
        timeStyle: 'short',
        timeZone: agencyData.timezone,
      })
    : '';
  if (a.open) return `<b class="ok">открыто</b>${next ? ` <small>до ${esc(next)}</small>` : ''}`;
  return `<b class="bad">закрыто</b>${next ? ` <small>откроется ${esc(next)}</small>` : ''}`;
}

async function agenciesTab(box, editable) {
  if (!box.querySelector('#refs-at')) {
    box.innerHTML = `<p class="hint">Открыто ли уполномоченное лицо, считается по его расписанию и производственному календарю (время региона).</p>
      <form id="refs-at-form" class="inline-form"><label>Дата и время <input id="refs-at" type="datetime-local" value="${localNow()}" required></label> <button type="submit">Показать</button></form>
      <div class="table-scroll"><table id="agencies-table"><thead><tr><th>Уполномоченное лицо</th><th>Контакты</th><th>Расписание</th><th id="agencies-at-head">Сейчас</th>${editable ? '<th></th>' : ''}</tr></thead><tbody></tbody></table></div>
      ${editable ? agencyForm() : ''}
      <h3>Расписания</h3>
      <div class="table-scroll"><table id="schedules-table"><thead><tr><th>Расписание</th><th>Часы работы</th><th>Календарь</th>${editable ? '<th></th>' : ''}</tr></thead><tbody></tbody></table></div>
      ${editable ? scheduleForm() : ''}`;
    box.querySelector('#refs-at-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void loadAgencies(box, editable);
    });
    if (editable) bindAgencyForms(box);
  }
  await loadAgencies(box, editable);
}

function agencyForm() {
  return `<form id="agency-form" class="checklist-form refs-form"><h4 id="agency-form-title">Новое уполномоченное лицо</h4>
    <label>Код <input name="id" required pattern="[a-z0-9_.\\-]+" placeholder="например, health_hotline"></label>
    <label>Название <input name="name" required></label>
    <label>Контактное лицо <input name="contactPerson"></label>
    <label>Электронная почта <input name="email"></label>
    <label>Номер переадресации <input name="forwardNumber" placeholder="+7 000 000-00-01"></label>
    <label>Ведомство (участник) <select name="participant"></select></label>
    <label>Расписание <select name="schedule" required></select></label>
    <div><button type="submit">Сохранить уполномоченное лицо</button> <button type="button" class="refs-cancel">Новое</button></div>
    ${messages}</form>`;
}

function scheduleForm() {
  return `<form id="schedule-form" class="checklist-form refs-form"><h4 id="schedule-form-title">Новое расписание</h4>
    <label>Код расписания <input name="id" required></label>
    <label>Название расписания <input name="title" required></label>
    <label>Часовой пояс <input name="timezone" placeholder="как у региона"></label>
    <label class="check"><input type="checkbox" name="alwaysOpen"> Круглосуточно</label>
    <label class="check"><input type="checkbox" name="observeCalendar" checked> Учитывать производственный календарь</label>
    ${days.map(([d, ru]) => `<label>${ru} <input name="day-${d}" placeholder="09:00-13:00, 14:00-18:00"></label>`).join('')}
    <div><button type="submit">Сохранить расписание</button> <button type="button" class="refs-cancel">Новое</button></div>
    ${messages}</form>`;
}

let agencyData = { agencies: [], schedules: [], participants: [] };

async function loadAgencies(box, editable) {
  const local = box.querySelector('#refs-at').value;
  agencyData = await api(`/api/kb/agencies${local ? `?local=${encodeURIComponent(local)}` : ''}`);
  box.querySelector('#agencies-at-head').textContent = local
    ? `На ${new Date(local).toLocaleString('ru-RU', { dateStyle: 'short', timeStyle: 'short' })}`
    : 'Сейчас';
  box.querySelector('#agencies-table tbody').innerHTML = agencyData.agencies
    .map(
      (a) =>
        `<tr data-agency="${esc(a.id)}"><td>${esc(a.name)}<br><small>${esc(a.id)}</small></td><td>${[
          a.contactPerson,
          a.email,
          a.forwardNumber && `переадресация: ${a.forwardNumber}`,
        ]
          .filter(Boolean)
          .map(esc)
          .join('<br>')}</td><td>${esc(a.scheduleTitle)}</td><td class="open-state">${openText(a)}</td>${
          editable ? `<td><button type="button" data-edit-agency="${esc(a.id)}">Изменить</button></td>` : ''
        }</tr>`,
    )
    .join('');
  box.querySelector('#schedules-table tbody').innerHTML = agencyData.schedules
    .map(
      (s) =>
        `<tr data-schedule="${esc(s.id)}"><td>${esc(s.title)}<br><small>${esc(s.id)}${s.timezone ? `, ${esc(s.timezone)}` : ''}</small></td><td>${esc(hoursText(s))}</td><td>${s.observeCalendar ? 'учитывается' : 'не учитывается'}</td>${
          editable ? `<td><button type="button" data-edit-schedule="${esc(s.id)}">Изменить</button></td>` : ''
        }</tr>`,
    )
    .join('');
  if (!editable) return;
  const form = box.querySelector('#agency-form');
  const keep = { participant: form.elements.participant.value, schedule: form.elements.schedule.value };
  form.elements.participant.innerHTML = `<option value="">—</option>${agencyData.participants
    .map((p) => `<option value="${esc(p.id)}">${esc(p.name)}</option>`)
    .join('')}`;
  form.elements.schedule.innerHTML = agencyData.schedules
    .map((s) => `<option value="${esc(s.id)}">${esc(s.title)}</option>`)
    .join('');
  if (keep.schedule) form.elements.schedule.value = keep.schedule;
  form.elements.participant.value = keep.participant;
  for (const b of box.querySelectorAll('[data-edit-agency]'))
    b.addEventListener('click', () => fillAgency(box, b.dataset.editAgency));
  for (const b of box.querySelectorAll('[data-edit-schedule]'))
    b.addEventListener('click', () => fillSchedule(box, b.dataset.editSchedule));
}

function fillAgency(box, id) {
  const a = agencyData.agencies.find((x) => x.id === id);
  const form = box.querySelector('#agency-form');
  box.querySelector('#agency-form-title').textContent = `Уполномоченное лицо «${a.name}»`;
  form.elements.id.value = a.id;
  form.elements.id.readOnly = true;
  for (const f of ['name', 'contactPerson', 'email', 'forwardNumber']) form.elements[f].value = a[f] ?? '';
  form.elements.participant.value = a.participant ?? '';
  form.elements.schedule.value = a.schedule;
  form.scrollIntoView({ block: 'nearest' });
}

function fillSchedule(box, id) {
  const s = agencyData.schedules.find((x) => x.id === id);
  const form = box.querySelector('#schedule-form');
  box.querySelector('#schedule-form-title').textContent = `Расписание «${s.title}»`;
  form.elements.id.value = s.id;
  form.elements.id.readOnly = true;
  form.elements.title.value = s.title;
  form.elements.timezone.value = s.timezone ?? '';
  form.elements.alwaysOpen.checked = s.alwaysOpen;
  form.elements.observeCalendar.checked = s.observeCalendar;
  for (const [d] of days) form.elements[`day-${d}`].value = (s.weekly[d] ?? []).join(', ');
  form.scrollIntoView({ block: 'nearest' });
}

function bindAgencyForms(box) {
  const agency = box.querySelector('#agency-form');
  agency.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = agency;
    try {
      const { agency: saved } = await api(
        `/api/kb/agencies/${encodeURIComponent(f.elements.id.value.trim())}`,
        {
          method: 'PUT',
          body: JSON.stringify({
            name: f.elements.name.value,
            contactPerson: f.elements.contactPerson.value || null,
            email: f.elements.email.value || null,
            forwardNumber: f.elements.forwardNumber.value || null,
            participant: f.elements.participant.value || null,
            schedule: f.elements.schedule.value,
          }),
        },
      );
      await loadAgencies(box, true);
      notice(agency, null, `Сохранено: «${saved?.name ?? f.elements.name.value}»`);
    } catch (err) {
      notice(agency, err);
    }
  });
  const schedule = box.querySelector('#schedule-form');
  schedule.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = schedule;
    const weekly = {};
    for (const [d] of days) {
      const list = f.elements[`day-${d}`].value
        .split(/[,;]/)
        .map((s) => s.trim())
        .filter(Boolean);
      if (list.length) weekly[d] = list;
    }
    try {
      await api(`/api/kb/schedules/${encodeURIComponent(f.elements.id.value.trim())}`, {
        method: 'PUT',
        body: JSON.stringify({
          title: f.elements.title.value,
          timezone: f.elements.timezone.value.trim() || null,
          alwaysOpen: f.elements.alwaysOpen.checked,
          observeCalendar: f.elements.observeCalendar.checked,
          weekly,
        }),
      });
      await loadAgencies(box, true);
      schedule.querySelector('h4').textContent = `Расписание «${f.elements.title.value}»`;
      notice(schedule, null, `Расписание «${f.elements.title.value}» сохранено`);
    } catch (err) {
      notice(schedule, err);
    }
  });
  for (const form of [agency, schedule])
    form.querySelector('.refs-cancel').addEventListener('click', () => {
      form.reset();
      form.elements.id.readOnly = false;
      form.querySelector('h4').textContent =
        form === agency ? 'Новое уполномоченное лицо' : 'Новое расписание';
    });
}

// ---- the production calendar ----

async function calendarTab(box, editable) {
  if (!box.querySelector('#calendar-year')) {
    const year = new Date().getFullYear();
    box.innerHTML = `<p class="hint">Праздники закрывают уполномоченных лиц, чьё расписание учитывает календарь; рабочая суббота или воскресенье работает по часам указанного дня недели; в сокращённый день работа заканчивается на час раньше.</p>
      <form id="calendar-year-form" class="inline-form"><label>Год <input id="calendar-year" type="number" min="2000" max="2100" value="${year}"></label> <button type="submit">Показать</button></form>
      ${
        editable
          ? `<form id="calendar-form" class="checklist-form refs-form"><h4>День календаря</h4>
        <label>Дата <input name="date" type="date" required></label>
        <label>Вид дня <select name="kind">${Object.entries(kindRu)
          .map(([k, ru]) => `<option value="${k}">${ru}</option>`)
          .join('')}</select></label>
        <label>Название дня <input name="title" placeholder="например, День России"></label>
        <label>Работает как <select name="worksAs"><option value="">понедельник (по умолчанию)</option>${days
          .slice(0, 5)
          .map(([d, ru]) => `<option value="${d}">${ru}</option>`)
          .join('')}</select></label>
        <div><button type="submit">Сохранить день</button></div>${messages}</form>`
          : ''
      }
      <div class="table-scroll"><table id="calendar-table"><thead><tr><th>Дата</th><th>Вид</th><th>Название</th>${editable ? '<th></th>' : ''}</tr></thead><tbody></tbody></table></div>`;
    box.querySelector('#calendar-year-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void loadCalendar(box, editable);
    });
    const form = box.querySelector('#calendar-form');
    form?.addEventListener('submit', async (e) => {
      e.preventDefault();
      const date = form.elements.date.value;
      try {
        await api(`/api/kb/calendar/${encodeURIComponent(date)}`, {
          method: 'PUT',
          body: JSON.stringify({
            kind: form.elements.kind.value,
            title: form.elements.title.value,
            worksAs: form.elements.kind.value === 'working_day' ? form.elements.worksAs.value || null : null,
          }),
        });
        box.querySelector('#calendar-year').value = date.slice(0, 4);
        await loadCalendar(box, editable);
        notice(form, null, `День ${new Date(`${date}T12:00:00`).toLocaleDateString('ru-RU')} сохранён`);
      } catch (err) {
        notice(form, err);
      }
    });
  }
  await loadCalendar(box, editable);
}

async function loadCalendar(box, editable) {
  const year = box.querySelector('#calendar-year').value;
  const { days: list } = await api(`/api/kb/calendar?year=${encodeURIComponent(year)}`);
  const dayName = (d) => weekdayRu[new Date(`${d}T12:00:00Z`).getUTCDay()];
  box.querySelector('#calendar-table tbody').innerHTML =
    list
      .map(
        (d) =>
          `<tr data-day="${esc(d.date)}"><td>${esc(new Date(`${d.date}T12:00:00Z`).toLocaleDateString('ru-RU', { timeZone: 'UTC' }))}, ${dayName(d.date)}</td><td>${esc(kindRu[d.kind] ?? d.kind)}${
            d.kind === 'working_day'
              ? ` <small>(часы: ${esc(days.find(([k]) => k === (d.worksAs ?? 'mon'))[1])})</small>`
              : ''
          }</td><td>${esc(d.title)}</td>${editable ? `<td><button type="button" data-remove-day="${esc(d.date)}">Убрать</button></td>` : ''}</tr>`,
      )
      .join('') || `<tr><td colspan="4">В ${esc(year)} году особых дней нет</td></tr>`;
  for (const b of box.querySelectorAll('[data-remove-day]'))
    b.addEventListener('click', async () => {
      const form = box.querySelector('#calendar-form');
      try {
        await api(`/api/kb/calendar/${encodeURIComponent(b.dataset.removeDay)}`, { method: 'DELETE' });
        await loadCalendar(box, editable);
        notice(form, null, 'День убран из календаря');
      } catch (err) {
        notice(form, err);
      }
    });
}

// ---- outcome codes ----

async function outcomesTab(box, editable) {
  if (!box.querySelector('#outcomes-table')) {
    box.innerHTML = `<p class="hint">Коды, которыми оператор отмечает, чем закончился разговор. Снятый код больше не предлагается, но остаётся у прежних звонков.</p>
      <div class="table-scroll"><table id="outcomes-table"><thead><tr><th>Код</th><th>Название</th><th>Состояние</th>${editable ? '<th></th>' : ''}</tr></thead><tbody></tbody></table></div>
      ${
        editable
          ? `<form id="outcome-form" class="checklist-form refs-form"><h4 id="outcome-form-title">Новый код результата</h4>
        <label>Код результата <input name="id" required placeholder="латиницей, например, duplicate"></label>
        <label>Название результата <input name="title" required></label>
        <div><button type="submit" id="outcome-submit">Добавить код</button> <button type="button" class="refs-cancel">Новый</button></div>${messages}</form>`
          : ''
      }`;
    const form = box.querySelector('#outcome-form');
    form?.addEventListener('submit', async (e) => {
      e.preventDefault();
      const renaming = form.elements.id.readOnly;
      try {
        await api(
          renaming ? `/api/kb/outcomes/${encodeURIComponent(form.elements.id.value)}` : '/api/kb/outcomes',
          {
            method: renaming ? 'PUT' : 'POST',
            body: JSON.stringify(
              renaming
                ? { title: form.elements.title.value }
                : { id: form.elements.id.value.trim(), title: form.elements.title.value },
            ),
          },
        );
        await loadOutcomes(box, editable);
        notice(
          form,
          null,
          renaming
            ? `Код «${form.elements.id.value}» переименован`
            : `Код «${form.elements.title.value}» добавлен`,
        );
        resetOutcome(form);
      } catch (err) {
        notice(form, err);
      }
    });
    form?.querySelector('.refs-cancel').addEventListener('click', () => resetOutcome(form));
  }
  await loadOutcomes(box, editable);
}

function resetOutcome(form) {
  form.reset();
  form.elements.id.readOnly = false;
  form.querySelector('#outcome-form-title').textContent = 'Новый код результата';
  form.querySelector('#outcome-submit').textContent = 'Добавить код';
}

async function loadOutcomes(box, editable) {
  const { outcomes } = await api('/api/kb/outcomes');
  box.querySelector('#outcomes-table tbody').innerHTML = outcomes
    .map(
      (o) =>
        `<tr data-outcome="${esc(o.id)}"${o.retired ? ' class="retired"' : ''}><td>${esc(o.id)}</td><td>${esc(o.title)}</td><td>${o.retired ? 'снят' : 'действует'}</td>${
          editable
            ? `<td><button type="button" data-rename="${esc(o.id)}">Переименовать</button> <button type="button" data-retired="${o.retired ? 'false' : 'true'}" data-outcome-id="${esc(o.id)}">${o.retired ? 'Вернуть' : 'Снять'}</button></td>`
            : ''
        }</tr>`,
    )
    .join('');
  const form = box.querySelector('#outcome-form');
  for (const b of box.querySelectorAll('[data-rename]'))
    b.addEventListener('click', () => {
      const o = outcomes.find((x) => x.id === b.dataset.rename);
      form.elements.id.value = o.id;
      form.elements.id.readOnly = true;
      form.elements.title.value = o.title;
      form.querySelector('#outcome-form-title').textContent = `Код «${o.id}»`;
      form.querySelector('#outcome-submit').textContent = 'Переименовать';
    });
  for (const b of box.querySelectorAll('[data-outcome-id]'))
    b.addEventListener('click', async () => {
      const retired = b.dataset.retired === 'true';
      try {
        const { outcome } = await api(`/api/kb/outcomes/${encodeURIComponent(b.dataset.outcomeId)}`, {
          method: 'PUT',
          body: JSON.stringify({ retired }),
        });
        await loadOutcomes(box, editable);
        notice(form, null, `Код «${outcome.title}» ${retired ? 'снят' : 'возвращён'}`);
      } catch (err) {
        notice(form, err);
      }
    });
}
