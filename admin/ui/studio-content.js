// «Сценарии и меню»: the bot's prompts, the voice menus, the call flows and the numbers the line serves (with
// the flow each runs), one tab each. Editors change them; approvers and supervisors see them. Every save is
// checked by the server against the whole knowledge base, and a refusal is shown as the server words it
// (in Russian, each problem on its own line) next to the form; nothing is stored then.
import { api, esc, hasRole } from './lib.js';
import { flowsTab } from './studio-flows.js';
import { feedback, messages } from './studio-form.js';

const tabs = [
  ['prompts', 'Фразы бота'],
  ['menus', 'Голосовое меню'],
  ['flows', 'Сценарии'],
  ['numbers', 'Номера линии'],
];

const actionRu = {
  topic: 'тема',
  queue: 'очередь операторов',
  forward: 'переадресация в ведомство',
  message: 'сообщение',
  submenu: 'подменю',
};
const targetField = { topic: 'topic', queue: 'queue', forward: 'agency', message: 'prompt', submenu: 'menu' };

async function promptsTab(panel, editable) {
  const { prompts } = await api('/api/kb/prompts');
  panel.innerHTML = `<p class="hint">Что бот говорит по телефону (озвучивается синтезом речи) и пишет в чате. Если текст для чата пуст, в чате показывается устный текст.</p>
    <div class="table-scroll"><table id="prompts-table" class="studio-table"><thead><tr><th>Код</th><th>Устно</th><th>В чате</th>${editable ? '<th></th>' : ''}</tr></thead><tbody>${prompts
      .map(
        (p) =>
          `<tr data-id="${esc(p.id)}"><td><code>${esc(p.id)}</code></td><td data-label="Устно">${esc(p.text)}</td><td data-label="В чате">${p.chat ? esc(p.chat) : '<span class="hint">как устно</span>'}</td>${editable ? `<td><button type="button" data-edit="${esc(p.id)}">Изменить</button></td>` : ''}</tr>`,
      )
      .join('')}</tbody></table></div>
    ${
      editable
        ? `<form id="prompt-form" class="studio-form"><h4 id="prompt-form-title">Новая фраза</h4>
      <label>Код фразы <input name="id" required pattern="[a-z0-9_.\\-]+" title="строчные латинские буквы, цифры, _ . -"></label>
      <label class="wide">Текст для озвучивания <textarea name="text" rows="3" required></textarea></label>
      <label class="wide">Текст для чата <textarea name="chat" rows="3" placeholder="как устно"></textarea></label>
      <div class="wide"><button type="submit">Сохранить фразу</button> <button type="button" id="prompt-new">Новая фраза</button></div>
      ${messages}</form>`
        : ''
    }`;
  if (!editable) return;
  const form = panel.querySelector('#prompt-form');
  const say = feedback(form);
  const fill = (p) => {
    form.elements.id.value = p?.id ?? '';
    form.elements.id.readOnly = Boolean(p);
    form.elements.text.value = p?.text ?? '';
    form.elements.chat.value = p?.chat ?? '';
    panel.querySelector('#prompt-form-title').textContent = p ? `Фраза «${p.id}»` : 'Новая фраза';
    say.clear();
  };
  panel.querySelector('#prompts-table').addEventListener('click', (event) => {
    const id = event.target.closest('button')?.dataset.edit;
    if (!id) return;
    fill(prompts.find((p) => p.id === id));
    form.elements.text.focus();
  });
  panel.querySelector('#prompt-new').addEventListener('click', () => fill(null));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = form.elements.id.value.trim();
    const chat = form.elements.chat.value.trim();
    try {
      await api(`/api/kb/prompts/${encodeURIComponent(id)}`, {
        method: 'POST',
        body: JSON.stringify({ text: form.elements.text.value, chat: chat || null }),
      });
      await promptsTab(panel, editable);
      const again = panel.querySelector('#prompt-form');
      const p = (await api('/api/kb/prompts')).prompts.find((x) => x.id === id);
      again.elements.id.value = id;
      again.elements.id.readOnly = true;
      again.elements.text.value = p?.text ?? '';
      again.elements.chat.value = p?.chat ?? '';
      panel.querySelector('#prompt-form-title').textContent = `Фраза «${id}»`;
      feedback(again).ok(`Фраза «${id}» сохранена`);
    } catch (err) {
      say.fail(err);
    }
  });
}

const actionText = (a) => {
  const target = a[targetField[a.kind]];
  return `${actionRu[a.kind] ?? a.kind}${target ? ` «${target}»` : ''}`;
};

async function menusTab(panel, editable, chosen) {
  const [{ menus }, { prompts }] = await Promise.all([api('/api/kb/menus'), api('/api/kb/prompts')]);
  const menu = menus.find((m) => m.id === chosen) ?? menus.find((m) => m.id === 'main') ?? menus[0];
  if (!menu) {
    panel.innerHTML = '<p>Голосовых меню нет.</p>';
    return;
  }
  const promptText = prompts.find((p) => p.id === menu.prompt)?.text ?? '';
  panel.innerHTML = `<p class="hint">Пункты, которые звонящий выбирает цифрой или словом. Куда ведёт пункт, должен уметь продолжить каждый сценарий с этим меню: иначе сохранение отклоняется.</p>
    <label>Меню <select id="menu-choice">${menus.map((m) => `<option value="${esc(m.id)}"${m.id === menu.id ? ' selected' : ''}>${esc(m.id)}</option>`).join('')}</select></label>
    <p>Фраза меню <code>${esc(menu.prompt)}</code>: ${esc(promptText)}</p>
    <div class="table-scroll"><table id="menu-items" class="studio-table"><thead><tr><th>Цифра</th><th>Пункт</th><th>Ключевые слова</th><th>Действие</th>${editable ? '<th></th>' : ''}</tr></thead><tbody>${menu.items
      .map(
        (i) =>
          `<tr data-digit="${esc(i.digit)}"><td data-label="Цифра">${esc(i.digit)}</td><td><b>${esc(i.label)}</b></td><td data-label="Слова">${esc(i.keywords.join(', '))}</td><td data-label="Действие">${esc(actionText(i.action))}</td>${editable ? `<td><button type="button" data-edit="${esc(i.digit)}">Изменить</button></td>` : ''}</tr>`,
      )
      .join('')}</tbody></table></div>
    ${
      editable
        ? `<form id="menu-item-form" class="studio-form"><h4 id="menu-item-title">Новый пункт</h4>
      <input type="hidden" name="was">
      <label>Цифра <input name="digit" required maxlength="1" pattern="[0-9*#]"></label>
      <label>Название пункта <input name="label" required></label>
      <label class="wide">Ключевые слова (через запятую) <input name="keywords"></label>
      <label>Действие <select name="kind">${Object.entries(actionRu)
        .map(([k, v]) => `<option value="${k}">${esc(v)}</option>`)
        .join('')}</select></label>
      <label>Куда (код темы, очереди, ведомства, фразы или меню) <input name="target" required></label>
      <div class="wide"><button type="submit">Сохранить пункт</button> <button type="button" id="menu-item-new">Новый пункт</button> <button type="button" id="menu-item-delete" hidden>Убрать пункт</button></div>
      ${messages}</form>`
        : ''
    }`;
  panel
    .querySelector('#menu-choice')
    .addEventListener('change', (e) => void menusTab(panel, editable, e.target.value));
  if (!editable) return;
  const form = panel.querySelector('#menu-item-form');
  const say = feedback(form);
  const f = form.elements;
  const fill = (item) => {
    f.was.value = item?.digit ?? '';
    f.digit.value = item?.digit ?? '';
    f.label.value = item?.label ?? '';
    f.keywords.value = item?.keywords.join(', ') ?? '';
    f.kind.value = item?.action.kind ?? 'topic';
    f.target.value = item ? (item.action[targetField[item.action.kind]] ?? '') : '';
    panel.querySelector('#menu-item-title').textContent = item ? `Пункт ${item.digit}` : 'Новый пункт';
    panel.querySelector('#menu-item-delete').hidden = !item;
    say.clear();
  };
  panel.querySelector('#menu-items').addEventListener('click', (event) => {
    const digit = event.target.closest('button')?.dataset.edit;
    if (digit !== undefined) fill(menu.items.find((i) => i.digit === digit));
  });
  panel.querySelector('#menu-item-new').addEventListener('click', () => fill(null));
  const save = async (items, done) => {
    try {
      await api(`/api/kb/menus/${encodeURIComponent(menu.id)}`, {
        method: 'POST',
        body: JSON.stringify({ prompt: menu.prompt, items }),
      });
      await menusTab(panel, editable, menu.id);
      feedback(panel.querySelector('#menu-item-form')).ok(done);
    } catch (err) {
      say.fail(err);
    }
  };
  panel.querySelector('#menu-item-delete').addEventListener('click', () => {
    const was = f.was.value;
    void save(
      menu.items.filter((i) => i.digit !== was),
      `Пункт ${was} убран из меню «${menu.id}»`,
    );
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const item = {
      digit: f.digit.value.trim(),
      label: f.label.value.trim(),
      keywords: f.keywords.value
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
      action: { kind: f.kind.value, [targetField[f.kind.value]]: f.target.value.trim() },
    };
    const was = f.was.value;
    const items = was ? menu.items.map((i) => (i.digit === was ? item : i)) : [...menu.items, item];
    void save(items, `Пункт ${item.digit} меню «${menu.id}» сохранён`);
  });
}

async function numbersTab(panel, editable) {
  const [{ numbers }, { flows }] = await Promise.all([api('/api/kb/numbers'), api('/api/kb/flows')]);
  const flowTitle = (id) => flows.find((f) => f.id === id)?.title ?? '';
  panel.innerHTML = `<p class="hint">Номера, на которые отвечает линия, и сценарий, который слышит позвонивший. Номер сравнивается по цифрам: «8 800 …» и «+7 800 …» — один номер. Номера из настроек телефонии (TELEPHONY_NUMBERS), которых нет в списке, идут на сценарий default.</p>
    <div class="table-scroll"><table id="numbers-table" class="studio-table"><thead><tr><th>Номер</th><th>Название</th><th>Сценарий</th><th>Заметка</th>${editable ? '<th></th>' : ''}</tr></thead><tbody>${
      numbers
        .map(
          (n) =>
            `<tr data-digits="${esc(n.digits)}"><td><b>${esc(n.number)}</b></td><td>${esc(n.title)}</td><td data-label="Сценарий"><code>${esc(n.flow)}</code> ${esc(flowTitle(n.flow))}</td><td data-label="Заметка">${esc(n.note ?? '—')}</td>${editable ? `<td class="actions"><button type="button" data-edit="${esc(n.digits)}">Изменить</button> <button type="button" data-delete="${esc(n.digits)}">Удалить</button></td>` : ''}</tr>`,
        )
        .join('') || `<tr><td colspan="${editable ? 5 : 4}">Номеров нет</td></tr>`
    }</tbody></table></div>
    ${
      editable
        ? `<form id="number-form" class="studio-form"><h4 id="number-form-title">Новый номер</h4>
      <input type="hidden" name="was">
      <label>Номер <input name="number" required placeholder="117 или +7 800 200-01-17"></label>
      <label>Название <input name="title" placeholder="Короткий номер 117"></label>
      <label>Сценарий <select name="flow" required>${flows.map((fl) => `<option value="${esc(fl.id)}">${esc(fl.id)}${fl.title ? ` — ${esc(fl.title)}` : ''}</option>`).join('')}</select></label>
      <label class="wide">Заметка <input name="note"></label>
      <div class="wide"><button type="submit">Сохранить номер</button> <button type="button" id="number-new">Новый номер</button></div>
      ${messages}</form>`
        : `<div id="number-form">${messages}</div>`
    }`;
  if (!editable) return;
  const form = panel.querySelector('#number-form');
  const say = feedback(form);
  const f = form.elements;
  const fill = (n) => {
    f.was.value = n?.digits ?? '';
    f.number.value = n?.number ?? '';
    f.title.value = n?.title ?? '';
    f.flow.value = n?.flow ?? 'default';
    f.note.value = n?.note ?? '';
    panel.querySelector('#number-form-title').textContent = n ? `Номер ${n.number}` : 'Новый номер';
    say.clear();
  };
  fill(null);
  const reload = async (done) => {
    await numbersTab(panel, editable);
    feedback(panel.querySelector('#number-form')).ok(done);
  };
  panel.querySelector('#numbers-table').addEventListener('click', async (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    const n = numbers.find((x) => x.digits === (button.dataset.edit ?? button.dataset.delete));
    if (!n) return;
    if (button.dataset.edit) return fill(n);
    try {
      await api(`/api/kb/numbers/${n.digits}/delete`, { method: 'POST', body: '{}' });
      await reload(`Номер ${n.number} удалён`);
    } catch (err) {
      say.fail(err);
    }
  });
  panel.querySelector('#number-new').addEventListener('click', () => fill(null));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      number: f.number.value.trim(),
      title: f.title.value.trim(),
      flow: f.flow.value,
      note: f.note.value.trim() || null,
    };
    try {
      const path = f.was.value ? `/api/kb/numbers/${f.was.value}` : '/api/kb/numbers';
      await api(path, { method: 'POST', body: JSON.stringify(body) });
      await reload(`Номер ${body.number} сохранён: сценарий «${body.flow}»`);
    } catch (err) {
      say.fail(err);
    }
  });
}

const render = { prompts: promptsTab, menus: menusTab, flows: flowsTab, numbers: numbersTab };

async function openTab(root, id) {
  for (const tab of root.querySelectorAll('[role=tab]'))
    tab.setAttribute('aria-selected', String(tab.dataset.tab === id));
  for (const panel of root.querySelectorAll('[role=tabpanel]')) panel.hidden = panel.id !== `studio-${id}`;
  const panel = root.querySelector(`#studio-${id}`);
  try {
    await render[id](panel, hasRole('editor', 'admin'));
  } catch (err) {
    panel.innerHTML = `<p class="error" role="alert">${esc(err.message)}</p>`;
  }
}

/** The page `#content`: the tabs, opening the one last looked at (the prompts at first). */
export async function contentPage() {
  const root = document.querySelector('#content-root');
  if (!root.querySelector('.tabs')) {
    root.innerHTML = `<div class="tabs" role="tablist">${tabs
      .map(
        ([id, title], n) =>
          `<button type="button" role="tab" data-tab="${id}" aria-selected="${n === 0}">${title}</button>`,
      )
      .join(
        '',
      )}</div>${tabs.map(([id], n) => `<div id="studio-${id}" role="tabpanel"${n ? ' hidden' : ''}></div>`).join('')}`;
    for (const tab of root.querySelectorAll('[role=tab]'))
      tab.addEventListener('click', () => void openTab(root, tab.dataset.tab));
  }
  const open = root.querySelector('[role=tab][aria-selected=true]')?.dataset.tab ?? 'prompts';
  await openTab(root, open);
}
