// «Проверка фразы» (knowledge editors and approvers): a phrase typed, or a short WAV recognized where an ASR
// model is installed, and what the bot makes of it — the normalized text, the intent with its confidence, the
// alternatives, the entities — and what it would do and say at the chosen moment of a call: the approved
// version it reads or that there is none, the handling, whether the agency is open, the prompts in order
// (POST /api/kb/try, /api/kb/try/audio; nothing is stored).
import { api, esc, hooks, state } from './lib.js';

const handlingRu = {
  answer: 'ответ по согласованному скрипту',
  forward: 'переадресация в ведомство',
  operator: 'соединение с оператором',
  system: 'служебное намерение',
};
const endRu = {
  answered: 'Прочитает согласованный ответ и спросит, остались ли вопросы',
  waits: 'Задаст вопрос и будет ждать ответа абонента',
  no_match: 'Не поймёт фразу и попросит сказать иначе',
  operator: 'Переведёт разговор на оператора',
  forward: 'Соединит с ведомством',
  inquiry: 'Предложит зарегистрировать обращение для обратного звонка',
  emergency: 'Экстренная ситуация: назовёт номера 112 и 103 и переведёт на оператора',
  emergency_check: 'Уточнит, нужна ли экстренная помощь',
  greeting: 'Поздоровается и попросит задать вопрос',
  repeat: 'Повторит свою последнюю реплику',
  goodbye: 'Попрощается и завершит разговор',
  menu: 'Перейдёт в подменю',
};
const entityRu = {
  date: 'дата',
  time: 'время',
  phone: 'телефон',
  number: 'число',
  snils: 'СНИЛС',
  oms_policy: 'полис ОМС',
  clinic: 'медорганизация',
  district: 'район',
};
const percent = (v) => `${Math.round((v ?? 0) * 100)} %`;

function layout(root) {
  root.innerHTML = `<p class="hint">Проверьте, как бот поймёт фразу абонента и что ответит на неё в выбранное время, до того как изменение услышат звонящие. Ничего не сохраняется.</p>
    <form id="try-form" class="try-form">
      <label>Фраза абонента <textarea name="text" rows="2" maxlength="500" required placeholder="например: как записаться к терапевту"></textarea></label>
      <div class="try-options">
        <label class="try-option">Время звонка <input type="datetime-local" name="at"></label>
        <label class="try-option">Канал <select name="channel"><option value="phone">звонок</option><option value="text">веб-чат</option></select></label>
      </div>
      <p class="hint">Время — местное время региона; не указано — сейчас.</p>
      <button type="submit">Проверить</button>
    </form>
    <form id="try-audio-form" class="try-form">
      <label>Или запись фразы (WAV, 8–16 кГц, до 30 секунд) <input type="file" name="audio" accept=".wav,audio/wav" required></label>
      <button type="submit">Распознать запись</button>
    </form>
    <p class="error" id="try-error" role="alert"></p>
    <div id="try-result" aria-live="polite"></div>`;
}

function when(iso, timeZone) {
  return new Date(iso).toLocaleString('ru-RU', {
    timeZone,
    day: 'numeric',
    month: 'long',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}

function intentName(id, title) {
  return title ? `${esc(title)} <small>(${esc(id)})</small>` : esc(id);
}

function reading(r) {
  const flags = [
    r.needsConfirmation ? '<span class="chip">нужно подтверждение</span>' : '',
    r.emergency ? '<span class="chip bad">экстренная ситуация</span>' : '',
    r.emergencySuspected ? '<span class="chip warn">возможна экстренная ситуация</span>' : '',
  ].join(' ');
  const alternatives =
    r.alternatives
      .map((a) => `<li>${intentName(a.intent, a.title)} — ${percent(a.confidence)}</li>`)
      .join('') || '<li>нет</li>';
  const entities =
    r.entities
      .map((e) => `<li>${esc(entityRu[e.type] ?? e.type)}: «${esc(e.text)}» → ${esc(e.value)}</li>`)
      .join('') || '<li>нет</li>';
  return `<section class="panel" id="try-reading"><h3>Как понял бот</h3><dl class="try-facts">
    <dt>Фраза</dt><dd id="try-phrase">${esc(r.text)}</dd>
    <dt>Нормализованный текст</dt><dd id="try-normalized">${esc(r.normalized) || '—'}</dd>
    <dt>Намерение</dt><dd id="try-intent"><b>${intentName(r.intent, r.intentTitle)}</b>, уверенность ${percent(r.confidence)} ${flags}</dd>
    <dt>Альтернативы</dt><dd><ul id="try-alternatives">${alternatives}</ul></dd>
    <dt>Сущности</dt><dd><ul id="try-entities">${entities}</ul></dd>
  </dl></section>`;
}

function answerLine(bot, r) {
  const a = bot.approvedAnswer;
  if (bot.answerServed && a)
    return `<p id="try-answer" class="ok">Согласованная версия <b>${esc(a.versionTag)}</b> (согласовал ${esc(a.approvedBy)}, ${esc(when(a.approvedAt, r.timeZone))})</p>`;
  if (bot.answerUnavailable || (bot.intent?.handling === 'answer' && !a))
    return '<p id="try-answer" class="warn">Согласованного ответа нет — бот предложит оператора или обращение</p>';
  if (a)
    return `<p id="try-answer">Согласованная версия ${esc(a.versionTag)} есть, но по этому пути бот её не читает</p>`;
  return '';
}

function agencyLine(bot, r) {
  const ag = bot.agency;
  if (!ag) return '<dt>Ведомство</dt><dd>не указано для темы</dd>';
  const change = ag.nextChange
    ? ag.open
      ? `, до ${esc(when(ag.nextChange, r.timeZone))}`
      : `, откроется ${esc(when(ag.nextChange, r.timeZone))}`
    : '';
  return `<dt>Ведомство</dt><dd id="try-agency">${esc(ag.name)}: <span class="${ag.open ? 'ok' : 'bad'}">${ag.open ? 'работает' : 'не работает'}</span>${change}</dd>`;
}

function operatorsLine(bot, r) {
  const o = bot.operators;
  const why = o.byHours
    ? 'рабочее время'
    : o.staffed
      ? 'вне рабочего времени, но оператор на смене'
      : 'нерабочее время';
  const change = o.nextChange ? ` (${o.byHours ? 'до' : 'с'} ${esc(when(o.nextChange, r.timeZone))})` : '';
  return `<dt>Операторы</dt><dd id="try-operators"><span class="${o.open ? 'ok' : 'bad'}">${o.open ? 'доступны' : 'недоступны'}</span>: ${why}${change}</dd>`;
}

function botPart(r) {
  const bot = r.bot;
  const says = bot.says
    .map((s) => {
      const label =
        s.kind === 'answer'
          ? `ответ ${esc(s.answerVersion)}`
          : s.kind === 'announcement'
            ? 'объявление'
            : `подсказка ${esc(s.promptId)}`;
      return `<li class="try-say try-${esc(s.kind)}"><small class="label">${label}</small> ${esc(s.text)}</li>`;
    })
    .join('');
  const confirm = bot.confirmation
    ? `<dt>Подтверждение</dt><dd id="try-confirm">Сначала переспросит: «${esc(bot.confirmation.text)}»</dd>`
    : '';
  const handling = bot.intent ? (handlingRu[bot.intent.handling] ?? bot.intent.handling) : '—';
  return `<section class="panel" id="try-bot"><h3>Что сделает бот</h3>
    <p id="try-end"><b>${esc(endRu[bot.end] ?? bot.end)}</b></p>
    ${answerLine(bot, r)}
    <dl class="try-facts">
      <dt>Обработка</dt><dd id="try-handling">${esc(handling)}${bot.intent?.topicTitle ? `, тема «${esc(bot.intent.topicTitle)}»` : ''}</dd>
      ${confirm}
      ${agencyLine(bot, r)}
      ${operatorsLine(bot, r)}
      <dt>Время звонка</dt><dd>${esc(when(r.at, r.timeZone))}, ${r.channel === 'text' ? 'веб-чат' : 'звонок'}</dd>
    </dl>
    <h4>Бот скажет</h4>
    <ol id="try-says">${says}</ol>
    <p class="hint">Сценарий «${esc(bot.flowId)}»: ${bot.steps.map((s) => esc(s.stepId)).join(' → ')}. Модель ${esc(r.modelVersion)}, база знаний ${esc(r.kbVersion)}.</p>
  </section>`;
}

function show(root, r, recognized) {
  const heard = recognized
    ? `<p id="try-recognized">Распознано: «${esc(recognized.text) || '—'}» (${percent(recognized.confidence)}, ${(recognized.durationMs / 1000).toLocaleString('ru-RU')} с)</p>`
    : '';
  root.querySelector('#try-result').innerHTML = r
    ? `${heard}<div class="try-split">${reading(r)}${botPart(r)}</div>`
    : `${heard}<p>Речь в записи не распознана.</p>`;
}

export async function tryPage() {
  const root = document.querySelector('#try-root');
  if (!root.querySelector('#try-form')) {
    layout(root);
    const error = root.querySelector('#try-error');
    root.querySelector('#try-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      root.querySelector('#try-result').innerHTML = '<p role="status">Проверяю…</p>';
      try {
        const r = await api('/api/kb/try', {
          method: 'POST',
          body: JSON.stringify({
            text: form.get('text'),
            channel: form.get('channel'),
            ...(form.get('at') ? { at: form.get('at') } : {}),
          }),
        });
        error.textContent = '';
        show(root, r);
      } catch (err) {
        root.querySelector('#try-result').innerHTML = '';
        error.textContent = err.message;
      }
    });
    root.querySelector('#try-audio-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const file = event.target.elements.audio.files[0];
      if (!file) return;
      const main = new FormData(root.querySelector('#try-form'));
      const q = new URLSearchParams({ channel: main.get('channel') });
      if (main.get('at')) q.set('at', main.get('at'));
      root.querySelector('#try-result').innerHTML = '<p role="status">Распознаю запись…</p>';
      try {
        const res = await fetch(`/api/kb/try/audio?${q}`, {
          method: 'POST',
          headers: { 'content-type': 'audio/wav', authorization: `Bearer ${state.token}` },
          body: file,
        });
        const body = await res.json().catch(() => ({}));
        if (res.status === 401) hooks.signedOut();
        if (!res.ok) throw new Error(body.message ?? `Ошибка ${res.status}`);
        error.textContent = '';
        show(root, body.result, body.recognized);
      } catch (err) {
        root.querySelector('#try-result').innerHTML = '';
        error.textContent = err.message;
      }
    });
  }
}
