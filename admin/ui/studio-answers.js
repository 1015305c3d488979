// «Ответы»: the answer studio. An editor writes a draft (what the bot says, what the chat shows, the
// operator's card, a note for the approver, what the line does with the question), sends it for approval and
// sees the approver's comment on a draft returned to her. An approver sees her agency's queue: author, note,
// a word diff of each text against the version served now, a mark on what has waited longer than one working
// day; she approves or returns with a comment. The bot serves only approved versions (kb/editor.ts).
import { api, esc, hasRole, when } from './lib.js';

export const handlingRu = {
  answer: 'бот отвечает',
  forward: 'перевод в ведомство',
  inquiry: 'регистрация обращения',
};
const textsRu = [
  ['speech', 'Озвучивание (звонок)'],
  ['chat', 'Текст в чате'],
  ['screen', 'Карточка оператора'],
];

const path = (intent, version, act = '') =>
  `/api/kb/answers/${encodeURIComponent(intent)}/versions/${version}${act ? `/${act}` : ''}`;

function diffHtml(parts) {
  if (parts.length === 0) return '<span class="hint">пусто</span>';
  return parts
    .map((p) =>
      p.op === 'add'
        ? `<ins>${esc(p.text)}</ins>`
        : p.op === 'del'
          ? `<del>${esc(p.text)}</del>`
          : esc(p.text),
    )
    .join('');
}

const overdueMark = (p) =>
  p.overdue
    ? `<span class="status overdue" title="Срок согласования — один рабочий день">ждёт дольше рабочего дня</span>`
    : `<span class="status pending_approval">на согласовании до ${esc(when(p.dueAt))}</span>`;

function approvalCard(p, canAct) {
  const v = p.version;
  return `<article class="answer approval" data-intent="${esc(p.intentId)}" data-version="${v.version}">
    <h4>${esc(p.title)} <small>${esc(p.intentId)}, версия ${v.version}</small> ${overdueMark(p)}</h4>
    <p class="meta">Автор: <b>${esc(v.author ?? '—')}</b>${v.submittedBy && v.submittedBy !== v.author ? `, отправил(а) ${esc(v.submittedBy)}` : ''} · отправлено ${esc(when(v.submittedAt))} · ${esc(p.agencyName ?? p.agency ?? 'ведомство не указано')}</p>
    <p class="note">Записка для согласующего: ${v.note ? esc(v.note) : '<span class="hint">нет</span>'}</p>
    <p>Обработка: <b>${esc(handlingRu[v.handling] ?? v.handling)}</b>${p.approved && p.approved.handling !== v.handling ? ` (сейчас: ${esc(handlingRu[p.approved.handling])})` : ''}</p>
    <p class="hint">${p.approved ? `Отличия от согласованной версии ${p.approved.version}: <ins>добавлено</ins>, <del>удалено</del>.` : 'Первая версия скрипта: согласованной пока нет.'}</p>
    ${textsRu.map(([k, label]) => `<div class="diff" data-text="${k}"><h5>${label}</h5><p>${diffHtml(p.diff[k])}</p></div>`).join('')}
    ${
      canAct
        ? `<form class="return-form">
      <label>Комментарий автору <textarea name="comment" rows="2" required></textarea></label>
      <div class="buttons"><button type="button" data-act="approve">Согласовать</button> <button type="submit">Вернуть на доработку</button></div>
      <p class="error" role="alert"></p></form>`
        : ''
    }
  </article>`;
}

/** A draft's form: `v` the texts to start from, `version` the draft's number (null: a new draft). */
function draftForm(a, v, version) {
  return `<form class="draft-form" data-intent="${esc(a.intentId)}" data-version="${version ?? ''}">
    <label>Текст для озвучивания <textarea name="speech" rows="3" required>${esc(v?.speech ?? '')}</textarea></label>
    <label>Текст для чата <small>(пусто — в чате тот же текст, что слышит звонящий)</small> <textarea name="chat" rows="3">${esc(v?.chat ?? '')}</textarea></label>
    <label>Карточка оператора <textarea name="screen" rows="4" required>${esc(v?.screen ?? '')}</textarea></label>
    <label>Записка для согласующего <textarea name="note" rows="2">${esc(v?.note ?? '')}</textarea></label>
    <label>Что делает линия <select name="handling">${Object.entries(handlingRu)
      .map(
        ([k, t]) => `<option value="${k}"${(v?.handling ?? 'answer') === k ? ' selected' : ''}>${t}</option>`,
      )
      .join('')}</select></label>
    <div class="buttons"><button type="submit">${version ? 'Сохранить черновик' : 'Создать черновик'}</button>${
      version ? ' <button type="button" data-act="submit">Отправить на согласование</button>' : ''
    }</div>
    <p class="error" role="alert"></p><p class="saved" role="status"></p>
  </form>`;
}

function intentBlock(a, pendingBy) {
  const draft = a.versions.find((v) => v.status === 'draft');
  const pending = a.versions.find((v) => v.status === 'pending_approval');
  const approved = a.versions.find((v) => v.status === 'approved');
  const waiting = pending ? pendingBy.get(`${a.intentId}@${pending.version}`) : null;
  const returned = draft?.reviewNote
    ? `<p class="returned" role="note">Возвращено на доработку${draft.returnedBy ? ` (${esc(draft.returnedBy)}` : ''}${draft.returnedAt ? `, ${esc(when(draft.returnedAt))})` : draft.returnedBy ? ')' : ''}: <b>${esc(draft.reviewNote)}</b></p>`
    : '';
  return `<article class="answer" data-intent="${esc(a.intentId)}">
    <h4>${esc(a.title)} <small>${esc(a.intentId)}</small></h4>
    <p class="meta">${approved ? `Согласована версия ${approved.version} (${esc(approved.approvedBy ?? '')}, ${esc(when(approved.approvedAt))}), ${esc(handlingRu[approved.handling] ?? '')}` : '<b>Согласованного ответа нет</b>: бот говорит, что ответ ещё не подготовлен'}</p>
    ${pending ? `<p>Версия ${pending.version} ${waiting ? overdueMark(waiting) : '<span class="status pending_approval">на согласовании</span>'} · автор ${esc(pending.author ?? '—')}</p>` : ''}
    ${returned}
    ${draft ? `<h5>Черновик, версия ${draft.version}</h5>${draftForm(a, draft, draft.version)}` : pending ? '' : `<details><summary>Новая версия</summary>${draftForm(a, approved ? { ...approved, note: '' } : null, null)}</details>`}
  </article>`;
}

function formBody(form) {
  const f = new FormData(form);
  return {
    speech: String(f.get('speech') ?? ''),
    chat: String(f.get('chat') ?? '').trim() ? String(f.get('chat')) : null,
    screen: String(f.get('screen') ?? ''),
    note: String(f.get('note') ?? ''),
    handling: String(f.get('handling') ?? 'answer'),
  };
}

/** The overview's and the wall's line: scripts waiting for approval, and those waiting too long. */
export async function showApprovalFigures(box) {
  if (!box) return;
  try {
    const f = await api('/api/kb/approvals/figures');
    box.innerHTML = `<div class="card"><span>Скрипты на согласовании</span><b>${f.pending}</b></div>
      <div class="card"><span>Ждут дольше рабочего дня</span><b class="${f.overdue > 0 ? 'bad' : 'ok'}">${f.overdue}</b>${f.overdue > 0 ? '<small><a href="#answers">открыть «Ответы»</a></small>' : ''}</div>`;
    box.hidden = false;
  } catch {
    box.hidden = true;
  }
}

export async function answersPage() {
  const root = document.querySelector('#answers-root');
  const approver = hasRole('approver', 'admin');
  const editor = hasRole('editor', 'admin');
  const [{ approvals }, { answers }] = await Promise.all([api('/api/kb/approvals'), api('/api/kb/answers')]);
  const pendingBy = new Map(approvals.map((p) => [`${p.intentId}@${p.version.version}`, p]));
  const overdue = approvals.filter((p) => p.overdue).length;
  root.innerHTML = `<p class="hint">Гражданам и в чате выдаётся только согласованная версия. Срок согласования — один рабочий день по производственному календарю.</p>
    <section class="studio-queue"><h3>${approver ? 'Ждут вашего согласования' : 'На согласовании'} <small>${approvals.length}${overdue ? `, из них дольше рабочего дня: ${overdue}` : ''}</small></h3>
    ${approvals.map((p) => approvalCard(p, approver)).join('') || '<p>Ничего не ждёт согласования.</p>'}</section>
    ${
      editor
        ? `<section class="studio-drafts"><h3>Ответы и черновики</h3>
      <label class="filter">Найти намерение <input type="search" id="answers-filter" placeholder="название или код"></label>
      ${answers.map((a) => intentBlock(a, pendingBy)).join('')}</section>`
        : ''
    }`;

  const filter = root.querySelector('#answers-filter');
  filter?.addEventListener('input', () => {
    const q = filter.value.trim().toLocaleLowerCase('ru');
    for (const el of root.querySelectorAll('.studio-drafts article')) {
      el.hidden = q !== '' && !el.textContent.toLocaleLowerCase('ru').includes(q);
    }
  });

  const act = async (form, work) => {
    const error = form.querySelector('.error');
    try {
      await work();
      await answersPage();
    } catch (err) {
      error.textContent = err.message;
    }
  };

  for (const card of root.querySelectorAll('.approval')) {
    const { intent, version } = card.dataset;
    const form = card.querySelector('.return-form');
    if (!form) continue;
    form
      .querySelector('[data-act="approve"]')
      .addEventListener('click', () =>
        act(form, () => api(path(intent, version, 'approve'), { method: 'POST', body: '{}' })),
      );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const comment = String(new FormData(form).get('comment') ?? '');
      act(form, () =>
        api(path(intent, version, 'return'), { method: 'POST', body: JSON.stringify({ comment }) }),
      );
    });
  }

  for (const form of root.querySelectorAll('.draft-form')) {
    const { intent, version } = form.dataset;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = JSON.stringify(formBody(form));
      act(form, () =>
        version
          ? api(path(intent, version), { method: 'PUT', body })
          : api(`/api/kb/answers/${encodeURIComponent(intent)}/versions`, { method: 'POST', body }),
      );
    });
    form.querySelector('[data-act="submit"]')?.addEventListener('click', () =>
      act(form, async () => {
        await api(path(intent, version), { method: 'PUT', body: JSON.stringify(formBody(form)) });
        await api(path(intent, version, 'submit'), { method: 'POST', body: '{}' });
      }),
    );
  }
}
