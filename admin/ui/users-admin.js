// «Сотрудники» (the admin only): staff accounts with role, agency (KB participant) and state; create one,
// change it, disable and enable, unlock after failed sign-ins, reset the password. A password made by the
// server is shown once, in the notice above the table.
import { $, api, esc, state, when } from './lib.js';
import { roleRu } from './roles.js';

const data = { users: [], participants: [] };

const roleOptions = (selected) =>
  Object.entries(roleRu)
    .map(([id, title]) => `<option value="${id}"${id === selected ? ' selected' : ''}>${esc(title)}</option>`)
    .join('');

const agencyOptions = (selected) =>
  `<option value="">— регион (без ведомства) —</option>${data.participants
    .map((p) => `<option value="${esc(p.id)}"${p.id === selected ? ' selected' : ''}>${esc(p.name)}</option>`)
    .join('')}`;

function skeleton() {
  $('#users-root').innerHTML =
    `<p class="hint">Редактор или согласующий с ведомством работает только с темами своего ведомства; без ведомства редактор ведёт все темы региона. Согласующий никогда не согласует свои черновики.</p>
<div id="users-notice" class="notice" role="status" hidden></div>
<div class="table-scroll"><table id="users-table" class="cards-on-phone"><thead><tr><th>Логин</th><th>ФИО</th><th>Роль</th><th>Ведомство</th><th>Состояние</th><th>Последний вход</th><th>Действия</th></tr></thead><tbody></tbody></table></div>
<form id="user-edit" class="panel" hidden><h4>Изменить сотрудника <span></span></h4>
  <label>ФИО <input name="name" required></label>
  <label>Роль <select name="role"></select></label>
  <label>Ведомство <select name="agency"></select></label>
  <button type="submit">Сохранить</button> <button type="button" data-cancel>Отмена</button>
  <p class="error" role="alert"></p>
</form>
<form id="user-create" class="panel"><h4>Новая учётная запись</h4>
  <label>Логин <input name="login" required pattern="[A-Za-z0-9._\\-]+" placeholder="латиницей, например smirnova"></label>
  <label>ФИО <input name="name" required></label>
  <label>Роль <select name="role"></select></label>
  <label>Ведомство <select name="agency"></select></label>
  <label>Пароль <input name="password" type="password" autocomplete="new-password" minlength="8" placeholder="пусто — создать автоматически"></label>
  <button type="submit">Создать учётную запись</button>
  <p class="error" role="alert"></p>
</form>`;
  $('#user-create').addEventListener('submit', createUser);
  $('#user-edit').addEventListener('submit', saveUser);
  $('#user-edit [data-cancel]').addEventListener('click', () => {
    $('#user-edit').hidden = true;
  });
}

function stateText(u) {
  if (u.disabled) return '<span class="bad">отключена</span>';
  if (u.lockedUntil) return `<span class="warn">заблокирована до ${esc(when(u.lockedUntil))}</span>`;
  return '<span class="ok">активна</span>';
}

function actions(u) {
  const self = state.user?.login === u.login;
  const b = (act, title) =>
    `<button type="button" data-act="${act}" data-login="${esc(u.login)}">${title}</button>`;
  return [
    b('edit', 'Изменить'),
    u.disabled ? b('enable', 'Включить') : self ? '' : b('disable', 'Отключить'),
    u.lockedUntil ? b('unlock', 'Разблокировать') : '',
    b('reset-password', 'Сбросить пароль'),
  ]
    .filter(Boolean)
    .join(' ');
}

function notice(html) {
  const box = $('#users-notice');
  box.innerHTML = html;
  box.hidden = !html;
}

function render() {
  $('#users-table tbody').innerHTML = data.users
    .map(
      (u) =>
        `<tr data-login="${esc(u.login)}"${u.disabled ? ' class="disabled"' : ''}><td data-label="Логин"><b>${esc(u.login)}</b></td><td data-label="ФИО">${esc(u.name)}</td><td data-label="Роль">${esc(roleRu[u.role] ?? u.role)}</td><td data-label="Ведомство">${u.agency ? esc(u.agencyName ?? u.agency) : '—'}</td><td data-label="Состояние">${stateText(u)}</td><td data-label="Последний вход">${u.lastSignInAt ? esc(when(u.lastSignInAt)) : '—'}</td><td class="actions">${actions(u)}</td></tr>`,
    )
    .join('');
  for (const button of document.querySelectorAll('#users-table button[data-act]'))
    button.addEventListener('click', () => act(button));
}

const said = {
  disable: (u) => `Учётная запись ${u.login} отключена, её сеансы завершены.`,
  enable: (u) => `Учётная запись ${u.login} включена.`,
  unlock: (u) => `Вход для ${u.login} разблокирован.`,
};

async function act(button) {
  const login = button.dataset.login;
  const user = data.users.find((u) => u.login === login);
  if (button.dataset.act === 'edit') return editUser(user);
  try {
    const path = `/api/users/${encodeURIComponent(login)}/${button.dataset.act}`;
    const res = await api(path, { method: 'POST', body: '{}' });
    if (button.dataset.act === 'reset-password')
      notice(
        `Новый временный пароль для <b>${esc(login)}</b>: <code class="password">${esc(res.password)}</code>. Он показывается один раз — передайте его сотруднику. Все сеансы ${esc(login)} завершены.`,
      );
    else notice(esc(said[button.dataset.act](res.user)));
    await load();
  } catch (err) {
    notice(`<span class="error">${esc(err.message)}</span>`);
  }
}

function editUser(user) {
  const form = $('#user-edit');
  form.hidden = false;
  form.dataset.login = user.login;
  form.querySelector('h4 span').textContent = user.login;
  form.elements.name.value = user.name;
  form.elements.role.innerHTML = roleOptions(user.role);
  form.elements.agency.innerHTML = agencyOptions(user.agency);
  form.querySelector('.error').textContent = '';
  form.scrollIntoView({ block: 'nearest' });
}

async function saveUser(event) {
  event.preventDefault();
  const form = event.target;
  const f = new FormData(form);
  try {
    await api(`/api/users/${encodeURIComponent(form.dataset.login)}`, {
      method: 'POST',
      body: JSON.stringify({ name: f.get('name'), role: f.get('role'), agency: f.get('agency') || null }),
    });
    form.hidden = true;
    notice(`Изменения учётной записи ${esc(form.dataset.login)} сохранены.`);
    await load();
  } catch (err) {
    form.querySelector('.error').textContent = err.message;
  }
}

async function createUser(event) {
  event.preventDefault();
  const form = event.target;
  const f = new FormData(form);
  const body = { login: f.get('login'), name: f.get('name'), role: f.get('role') };
  if (f.get('agency')) body.agency = f.get('agency');
  if (f.get('password')) body.password = f.get('password');
  try {
    const res = await api('/api/users', { method: 'POST', body: JSON.stringify(body) });
    form.reset();
    form.querySelector('.error').textContent = '';
    notice(
      res.password
        ? `Учётная запись <b>${esc(res.user.login)}</b> создана. Временный пароль: <code class="password">${esc(res.password)}</code>. Он показывается один раз — передайте его сотруднику.`
        : `Учётная запись <b>${esc(res.user.login)}</b> создана с заданным паролем.`,
    );
    await load();
  } catch (err) {
    form.querySelector('.error').textContent = err.message;
  }
}

async function load() {
  const res = await api('/api/users');
  data.users = res.users;
  data.participants = res.participants;
  render();
}

export async function usersPage() {
  if (!$('#users-table')) skeleton();
  // A password shown once stays only until the admin leaves the page.
  notice('');
  await load();
  const create = $('#user-create');
  if (!create.elements.role.options.length) {
    create.elements.role.innerHTML = roleOptions('operator');
    create.elements.agency.innerHTML = agencyOptions(null);
  }
}
