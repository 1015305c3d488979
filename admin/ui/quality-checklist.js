// «Качество» → «Чек-лист»: the items a call is scored against (the knowledge base's checklist). Editors and
// admins add an item, change one, retire one or put it back (the API audits each act and refuses to retire
// the last offered item, with its Russian message); supervisors see the list as it stands.
import { api, esc } from './lib.js';

const kindRu = { scale: 'баллы', yes_no: 'да / нет' };
const scoring = (i) => (i.kind === 'scale' ? `баллы 0–${i.weight}` : `да / нет, вес ${i.weight}`);

function layout(box, editable) {
  box.innerHTML = `<h3>Чек-лист оценки</h3>
    <p class="hint">Пункты, по которым супервизор оценивает звонок. Пункт «баллы» оценивается от 0 до веса, «да / нет» — весом или нулём. Пункт в архиве больше не предлагается, прежние оценки его сохраняют.</p>
    <p class="error" id="checklist-error" role="alert"></p><p id="checklist-saved" role="status"></p>
    <div class="table-scroll"><table id="checklist-items"><thead><tr><th>№</th><th>Пункт</th><th>Оценка</th><th>Состояние</th>${editable ? '<th></th>' : ''}</tr></thead><tbody></tbody></table></div>
    ${
      editable
        ? `<form id="checklist-form" class="checklist-form"><h4 id="checklist-form-title">Новый пункт</h4>
      <input type="hidden" name="id">
      <label>Название <input name="title" maxlength="200" required></label>
      <label>Как оценивается <select name="kind"><option value="yes_no">${kindRu.yes_no}</option><option value="scale">${kindRu.scale}</option></select></label>
      <label>Вес (наибольший балл) <input name="weight" type="number" min="1" max="100" value="1" required></label>
      <label>Порядок <input name="position" type="number" min="0" placeholder="в конец"></label>
      <div class="checklist-form-buttons"><button type="submit" id="checklist-submit">Добавить пункт</button> <button type="button" id="checklist-cancel" hidden>Отмена</button></div>
    </form>`
        : ''
    }`;
}

function row(i, editable) {
  const actions = editable
    ? `<td class="actions"><button type="button" data-edit="${esc(i.id)}">Изменить</button> ${
        i.retired
          ? `<button type="button" data-restore="${esc(i.id)}">Вернуть</button>`
          : `<button type="button" data-retire="${esc(i.id)}">В архив</button>`
      }</td>`
    : '';
  return `<tr data-item="${esc(i.id)}"${i.retired ? ' class="retired"' : ''}><td>${i.position}</td><td>${esc(i.title)}</td><td>${esc(scoring(i))}</td><td>${i.retired ? 'в архиве' : 'действует'}</td>${actions}</tr>`;
}

/** Shows the checklist in `box`; `editable` for the roles the API lets change it (editor, admin). */
export async function showChecklist(box, { editable }) {
  if (!box.querySelector('#checklist-items')) layout(box, editable);
  const error = box.querySelector('#checklist-error');
  const saved = box.querySelector('#checklist-saved');
  let items = [];
  const load = async () => {
    ({ items } = await api('/api/quality/checklist?withRetired=true'));
    box.querySelector('#checklist-items tbody').innerHTML =
      items.map((i) => row(i, editable)).join('') ||
      `<tr><td colspan="${editable ? 5 : 4}">Пунктов нет</td></tr>`;
  };
  const act = async (work, done) => {
    try {
      await work();
      error.textContent = '';
      saved.textContent = done;
      await load();
    } catch (err) {
      saved.textContent = '';
      error.textContent = err.message;
    }
  };
  try {
    await load();
    error.textContent = '';
  } catch (err) {
    error.textContent = err.message;
    return;
  }
  if (!editable || box.dataset.bound) return;
  box.dataset.bound = 'yes';
  const form = box.querySelector('#checklist-form');
  const reset = () => {
    form.reset();
    form.elements.id.value = '';
    box.querySelector('#checklist-form-title').textContent = 'Новый пункт';
    box.querySelector('#checklist-submit').textContent = 'Добавить пункт';
    box.querySelector('#checklist-cancel').hidden = true;
  };
  const put = (i, change) =>
    api(`/api/quality/checklist/${encodeURIComponent(i.id)}`, {
      method: 'PUT',
      body: JSON.stringify({
        title: i.title,
        kind: i.kind,
        weight: i.weight,
        position: i.position,
        retired: i.retired,
        ...change,
      }),
    });
  box.querySelector('#checklist-items').addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    const item = items.find(
      (i) => i.id === (button.dataset.edit ?? button.dataset.retire ?? button.dataset.restore),
    );
    if (!item) return;
    if (button.dataset.retire)
      void act(() => put(item, { retired: true }), `Пункт «${item.title}» отправлен в архив`);
    else if (button.dataset.restore)
      void act(() => put(item, { retired: false }), `Пункт «${item.title}» снова действует`);
    else {
      form.elements.id.value = item.id;
      form.elements.title.value = item.title;
      form.elements.kind.value = item.kind;
      form.elements.weight.value = String(item.weight);
      form.elements.position.value = String(item.position);
      box.querySelector('#checklist-form-title').textContent = `Изменить пункт «${item.title}»`;
      box.querySelector('#checklist-submit').textContent = 'Сохранить';
      box.querySelector('#checklist-cancel').hidden = false;
      form.elements.title.focus();
    }
  });
  box.querySelector('#checklist-cancel').addEventListener('click', reset);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const f = form.elements;
    const body = {
      title: f.title.value.trim(),
      kind: f.kind.value,
      weight: Number(f.weight.value),
      ...(f.position.value === '' ? {} : { position: Number(f.position.value) }),
    };
    const editing = items.find((i) => i.id === f.id.value);
    void act(
      async () => {
        if (editing) await put(editing, body);
        else await api('/api/quality/checklist', { method: 'POST', body: JSON.stringify(body) });
        reset();
      },
      editing ? `Пункт «${body.title}» сохранён` : `Пункт «${body.title}» добавлен`,
    );
  });
}
