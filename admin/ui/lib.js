// What every screen of the staff UI shares: the signed-in state, the API call, escaping, time formats and
// the server-sent-event reader. Plain ES module, no build step.

export const $ = (sel) => document.querySelector(sel);
export const state = { token: sessionStorage.getItem('otklik.token'), user: null };

/** Called on a 401: app.js sets it to its sign-out (the screens cannot import app.js back). */
export const hooks = { signedOut: () => {} };

export function esc(text) {
  return String(text ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

export const when = (at) => (at ? new Date(at).toLocaleString('ru-RU') : '');

/**
 * The server's clock as this browser sees it (from the answers' Date header): times in state and waits are
 * counted from the server's timestamps, and a browser clock that is off must not show «уже 8 дней».
 */
let clockOffsetMs = 0;
export const serverNow = () => Date.now() + clockOffsetMs;
function noteServerClock(res) {
  const at = Date.parse(res.headers.get('date') ?? '');
  if (!Number.isNaN(at)) clockOffsetMs = at + 500 - Date.now();
}

/**
 * A 401 signs out only the session whose token it answered: a request sent before a sign-out (or with no
 * token after it) that comes back once somebody has signed in again must not send them back to the form.
 */
function signedOutWith(token) {
  if (token && token === state.token) hooks.signedOut();
}

/** An API error keeps its HTTP status and code, so a screen can tell «not there» (404) from a failure. */
export async function api(path, options = {}) {
  const token = state.token;
  const res = await fetch(path, {
    ...options,
    headers: {
      // Only with a body: fastify refuses an empty JSON body (a DELETE has none).
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  noteServerClock(res);
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/api/auth/login') {
    signedOutWith(token);
    throw Object.assign(new Error(body.message ?? 'Требуется вход'), { status: 401 });
  }
  if (!res.ok)
    throw Object.assign(new Error(body.message ?? `Ошибка ${res.status}`), {
      status: res.status,
      code: body.code ?? body.error,
    });
  return body;
}

export const hasRole = (...roles) => Boolean(state.user && roles.includes(state.user.role));

/** A duration as people read it on a wall: «45 с», «3 мин 05 с», «1 ч 02 мин». */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} с`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} мин ${String(s % 60).padStart(2, '0')} с`;
  return `${Math.floor(m / 60)} ч ${String(m % 60).padStart(2, '0')} мин`;
}

export const operatorStateRu = {
  offline: 'не в сети',
  available: 'доступен',
  break: 'перерыв',
  offered: 'поступает вызов',
  on_call: 'в разговоре',
  wrap_up: 'завершение обработки',
};
export const channelRu = { phone: 'телефон', text: 'чат' };
export const queueCallStateRu = {
  waiting: 'ожидает',
  offered: 'предложен оператору',
  answered: 'в разговоре',
  abandoned: 'сброшен',
  callback: 'обратный звонок',
};
export const strategyRu = {
  'longest-idle-agent': 'дольше всех без вызова (равномерно)',
  'round-robin': 'по кругу',
  'agent-with-least-talk-time': 'меньше всего времени в разговоре',
  'agent-with-fewest-calls': 'меньше всего вызовов',
  'top-down': 'по порядку уровней',
  'ring-all': 'всем сразу',
  random: 'случайно',
};

/** Topic titles by id, from the approved scripts (the one topic list every desk role may read). */
let topicsLoad = null;
export function topicTitles() {
  topicsLoad ??= api('/api/desk/scripts')
    .then(({ scripts }) => {
      const titles = {};
      for (const s of scripts) if (s.topicId) titles[s.topicId] = s.topicTitle ?? s.topicId;
      return titles;
    })
    .catch(() => {
      topicsLoad = null;
      return {};
    });
  return topicsLoad;
}

/**
 * Reads a server-sent-event stream with fetch() (EventSource cannot send the Bearer header) and calls
 * `onEvent(name, data)` for each event; reconnects with a growing pause (1 s … 30 s) while not stopped.
 * `onStatus(up)` says whether the stream is live; `onMissing()` is called when the route answers 404 (the
 * screen then falls back to polling) and the stream stops.
 */
export function openStream(path, { onEvent, onStatus = () => {}, onMissing = () => {} }) {
  const controller = new AbortController();
  let pause = 1000;
  let stopped = false;
  async function once() {
    const token = state.token;
    const res = await fetch(path, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (res.status === 404 || res.status === 405) {
      stopped = true;
      onMissing();
      return;
    }
    if (res.status === 401) {
      stopped = true;
      signedOutWith(token);
      return;
    }
    if (!res.ok || !res.body) throw new Error(`Ошибка ${res.status}`);
    onStatus(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pause = 1000;
      buffer += value.replace(/\r\n?/g, '\n');
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length > 0) {
          try {
            onEvent(name, JSON.parse(data.join('\n')));
          } catch (err) {
            console.error(err);
          }
        }
        cut = buffer.indexOf('\n\n');
      }
    }
  }
  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch (err) {
        if (stopped) break;
        console.warn('stream', path, err);
      }
      if (stopped) break;
      onStatus(false);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 30_000);
    }
  })();
  return () => {
    stopped = true;
    controller.abort();
  };
}
