// The agency's answer form (no sign-in): the signed token of the mail's link is the only key. Reads the
// inquiry from /api/agency-answer and submits the one answer there (admin/plugins/agency-answer.ts).
const token = new URLSearchParams(location.search).get('t') ?? '';
const $ = (id) => document.getElementById(id);
const status = (text, kind = '') => {
  $('status').textContent = text;
  $('status').className = kind;
};
const who = { caller: 'Гражданин', bot: 'Служба 122', operator: 'Оператор' };

function show(inquiry) {
  const local = (iso) =>
    new Date(iso).toLocaleString('ru-RU', {
      timeZone: inquiry.timezone,
      dateStyle: 'long',
      timeStyle: 'short',
    });
  $('title').textContent = `Обращение № ${inquiry.id}${inquiry.topicTitle ? ` — ${inquiry.topicTitle}` : ''}`;
  $('agency').textContent = inquiry.agencyName ? `Ведомство: ${inquiry.agencyName}` : '';
  $('due').textContent = `Срок ответа: ${local(inquiry.answerDueAt)} (время региона, ${inquiry.timezone})`;
  $('question').textContent = inquiry.question;
  $('excerpt').replaceChildren(
    ...inquiry.excerpt.map((t) => {
      const li = document.createElement('li');
      li.className = t.who;
      const name = document.createElement('span');
      name.className = 'who';
      name.textContent = who[t.who] ?? t.who;
      li.append(name, t.text);
      return li;
    }),
  );
  if (inquiry.excerpt.length === 0) $('excerpt').textContent = 'Выдержки нет.';
  $('inquiry').hidden = false;
  if (inquiry.answered) {
    status(`Ответ на это обращение уже получен ${local(inquiry.answeredAt)}. Спасибо!`, 'done');
    return;
  }
  $('answer-form').hidden = false;
  status('');
}

async function load() {
  const res = await fetch(`/api/agency-answer?t=${encodeURIComponent(token)}`);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) return status(body.message ?? 'Обращение не удалось загрузить.', 'error');
  show(body.inquiry);
}

$('answer-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('text').value.trim();
  if (!text) return status('Напишите текст ответа.', 'error');
  $('send').disabled = true;
  status('Отправка…');
  const res = await fetch('/api/agency-answer', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ t: token, text }),
  }).catch(() => null);
  const body = res ? await res.json().catch(() => ({})) : {};
  if (res?.ok) {
    $('answer-form').hidden = true;
    return status('Ответ принят. Служба 122 передаст его гражданину. Спасибо!', 'done');
  }
  $('send').disabled = false;
  if (res?.status === 409) $('answer-form').hidden = true;
  status(body.message ?? 'Ответ не отправлен: нет связи с сервером, попробуйте ещё раз.', 'error');
});

load();
