// «Сценарии и меню» → «Сценарии»: a call flow as the list of its steps (id, kind, where each outcome leads)
// and its document as JSON text that editors change. The server checks the flow against the whole knowledge
// base (every step it leads to, every prompt, menu and intent it names) and refuses it with the reasons.
import { api, esc } from './lib.js';
import { feedback, messages } from './studio-form.js';

const typeRu = {
  say: 'сказать',
  menu: 'меню',
  listen: 'слушать вопрос',
  branch: 'развилка',
  answer: 'ответ по скрипту',
  confirm: 'подтверждение',
  enqueue: 'оператору',
  forward: 'в ведомство',
  inquiry: 'обращение',
  survey: 'опрос',
  emergency: 'экстренная ситуация',
  relay_answer: 'ответ ведомства',
  hangup: 'завершить',
};

/** Where a step leads: `далее → x`, `on.no_input → y`, `1 → z`, `default → w`. */
function leads(step) {
  const out = [];
  if (step.next) out.push(`далее → ${step.next}`);
  for (const [k, v] of Object.entries(step.on ?? {})) if (v) out.push(`${k} → ${v}`);
  for (const [k, v] of Object.entries(step.digits ?? {})) out.push(`${k} → ${v}`);
  for (const [k, v] of Object.entries(step.cases ?? {})) out.push(`${k} → ${v}`);
  if (step.default) out.push(`иначе → ${step.default}`);
  return out;
}

function stepsTable(doc) {
  const steps = Array.isArray(doc?.steps) ? doc.steps : [];
  const start = doc?.start ?? steps[0]?.id;
  return `<div class="table-scroll"><table id="flow-steps" class="studio-table"><thead><tr><th>№</th><th>Шаг</th><th>Вид</th><th>Фраза / меню</th><th>Куда ведёт</th></tr></thead><tbody>${
    steps
      .map(
        (s, n) =>
          `<tr data-step="${esc(s.id)}"><td class="step-no">${n + 1}</td><td class="step-id"><code>${esc(s.id)}</code>${s.id === start ? ' <small>(начало)</small>' : ''}</td><td data-label="Вид">${esc(typeRu[s.type] ?? s.type)} <small>${esc(s.type)}</small></td><td data-label="Фраза / меню">${s.prompt ? `<code>${esc(s.prompt)}</code>` : ''}${s.menu ? ` меню <code>${esc(s.menu)}</code>` : ''}${s.by ? ` по ${esc(s.by)}` : ''}</td><td>${leads(
            s,
          )
            .map((l) => esc(l))
            .join('<br>')}</td></tr>`,
      )
      .join('') || '<tr><td colspan="5">Шагов нет</td></tr>'
  }</tbody></table></div>`;
}

export async function flowsTab(panel, editable, chosen) {
  const { flows } = await api('/api/kb/flows');
  const id = chosen ?? (flows.some((f) => f.id === 'default') ? 'default' : flows[0]?.id);
  const doc = id ? (await api(`/api/kb/flows/${encodeURIComponent(id)}`).catch(() => null))?.flow : null;
  const { id: _own, ...body } = doc ?? { steps: [] };
  panel.innerHTML = `<p class="hint">Сценарий — шаги разговора; у каждого исхода шага есть шаг, куда он ведёт. Сценарий, который ссылается на несуществующий шаг, фразу или меню, не сохраняется.</p>
    <div class="studio-row"><label>Сценарий <select id="flow-choice">${flows.map((f) => `<option value="${esc(f.id)}"${f.id === id ? ' selected' : ''}>${esc(f.id)}${f.title ? ` — ${esc(f.title)}` : ''}</option>`).join('')}</select></label>
    ${editable ? '<label>или новый, код <input id="flow-new-id" pattern="[a-z0-9_.\\-]+" placeholder="line_117"></label> <button type="button" id="flow-new">Создать</button>' : ''}</div>
    <h4 id="flow-title">${id ? `Шаги сценария «${esc(id)}»` : 'Сценариев нет'}${doc?.title ? `: ${esc(doc.title)}` : ''}</h4>
    <div id="flow-steps-box">${stepsTable(doc)}</div>
    <form id="flow-form" class="studio-form">
      <label class="wide">Документ сценария (JSON) <textarea name="document" rows="18" spellcheck="false" class="code"${editable ? '' : ' readonly'}>${esc(JSON.stringify(body, null, 2))}</textarea></label>
      ${editable ? '<div class="wide"><button type="submit">Сохранить сценарий</button></div>' : ''}
      ${messages}</form>`;
  panel
    .querySelector('#flow-choice')
    .addEventListener('change', (e) => void flowsTab(panel, editable, e.target.value));
  if (!editable) return;
  const form = panel.querySelector('#flow-form');
  const say = feedback(form);
  let current = id;
  panel.querySelector('#flow-new').addEventListener('click', () => {
    const fresh = panel.querySelector('#flow-new-id').value.trim();
    if (!fresh) return;
    current = fresh;
    const blank = { title: '', steps: [{ id: 'bye', type: 'hangup', prompt: 'goodbye' }] };
    form.elements.document.value = JSON.stringify(blank, null, 2);
    panel.querySelector('#flow-title').textContent = `Новый сценарий «${fresh}»`;
    panel.querySelector('#flow-steps-box').innerHTML = stepsTable(blank);
    say.clear();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = JSON.parse(form.elements.document.value);
    } catch (err) {
      say.fail(new Error(`Текст сценария — не корректный JSON: ${err.message}`));
      return;
    }
    try {
      await api(`/api/kb/flows/${encodeURIComponent(current)}`, {
        method: 'POST',
        body: JSON.stringify(parsed),
      });
      await flowsTab(panel, editable, current);
      feedback(panel.querySelector('#flow-form')).ok(`Сценарий «${current}» сохранён`);
    } catch (err) {
      say.fail(err);
    }
  });
}
