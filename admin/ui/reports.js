// «Отчёты»: the supervisors' reports. Every report is a run of POST /api/reports/runs, polled until done
// (a long period shows its progress); the table, its CSV and XLSX and three charts (uPlot, served from the
// package under /vendor/uplot/): calls by hour, the bot's containment by topic, the service level by day.
// Below, the mailed reports' settings (GET/PUT /api/reports/schedules).
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { $, api, esc, state } from './lib.js';

const breakdownRu = {
  day: 'по дням',
  hour: 'по часам',
  topic: 'по темам',
  intent: 'по намерениям',
  agency: 'по ведомствам',
  participant: 'по участникам',
  queue: 'по очередям',
  operator: 'по операторам',
  channel: 'по каналам',
  direction: 'по направлениям',
};
/** A period longer than this is said to run in the background (the progress bar stays up). */
const LONG_DAYS = 31;

const view = { run: null, result: null, charts: [], poll: null, built: false };

function skeleton() {
  const options = Object.entries(breakdownRu)
    .map(([k, v]) => `<option value="${k}">${esc(v)}</option>`)
    .join('');
  $('#reports-root').innerHTML = `<form id="report-form" class="report-form">
  <label>С <input name="from" type="date" required></label>
  <label>По <input name="to" type="date" required></label>
  <label>Разбивка <select name="by">${options}</select></label>
  <button type="submit">Показать</button>
  <button type="button" id="report-csv" disabled>Скачать CSV</button>
  <button type="button" id="report-xlsx" disabled>Скачать XLSX</button>
</form>
<div id="report-status" role="status" aria-live="polite"><progress id="report-progress" max="100" value="0" hidden aria-label="Ход построения отчёта"></progress> <span id="report-progress-text"></span></div>
<p class="error" id="report-error" role="alert"></p>
<div class="charts">
  <figure><figcaption id="chart-hour-title">Звонки по часам</figcaption><div id="chart-hour" class="chart" role="img" aria-labelledby="chart-hour-title"></div></figure>
  <figure><figcaption id="chart-topic-title">Решено ботом по темам, %</figcaption><div id="chart-topic" class="chart" role="img" aria-labelledby="chart-topic-title"></div></figure>
  <figure><figcaption id="chart-day-title">Уровень обслуживания по дням, %</figcaption><div id="chart-day" class="chart" role="img" aria-labelledby="chart-day-title"></div></figure>
</div>
<div class="table-scroll" tabindex="0" aria-label="Таблица отчёта"><table id="report-table"><caption id="report-caption"></caption><thead></thead><tbody></tbody><tfoot></tfoot></table></div>
<h3>Рассылка отчётов</h3>
<p class="hint">Ежедневный отчёт — за прошедшие сутки, еженедельный — за прошедшую неделю (понедельник — воскресенье), по местному времени региона, с указанного часа. Каждый период отправляется один раз.</p>
<div id="report-schedules"></div>`;
  const form = $('#report-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    start();
  });
  $('#report-csv').addEventListener('click', () => download('csv'));
  $('#report-xlsx').addEventListener('click', () => download('xlsx'));
  window.addEventListener('resize', () => view.result && drawCharts(view.result));
  view.built = true;
}

const days = (from, to) => (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;

function setProgress(share, text) {
  const bar = $('#report-progress');
  bar.hidden = share === null;
  if (share !== null) bar.value = Math.round(share * 100);
  $('#report-progress-text').textContent = text ?? '';
}

async function start() {
  const form = new FormData($('#report-form'));
  const body = { from: form.get('from'), to: form.get('to'), by: form.get('by') };
  $('#report-error').textContent = '';
  $('#report-csv').disabled = true;
  $('#report-xlsx').disabled = true;
  clearTimeout(view.poll);
  try {
    const { run } = await api('/api/reports/runs', { method: 'POST', body: JSON.stringify(body) });
    view.run = run;
    const long = days(body.from, body.to) > LONG_DAYS;
    setProgress(0, long ? 'Длинный период: отчёт строится в фоне…' : 'Строится…');
    await poll(run.id);
  } catch (err) {
    setProgress(null);
    $('#report-error').textContent = err.message;
  }
}

async function poll(id) {
  const { run, result, columns, keys } = await api(`/api/reports/runs/${encodeURIComponent(id)}`);
  if (view.run?.id !== id) return;
  view.run = run;
  if (run.state === 'running') {
    setProgress(run.progress, `Строится: ${Math.round(run.progress * 100)} %`);
    view.poll = setTimeout(
      () => poll(id).catch((err) => ($('#report-error').textContent = err.message)),
      500,
    );
    return;
  }
  if (run.state === 'failed') {
    setProgress(null);
    $('#report-error').textContent = run.error ?? 'Отчёт не построен';
    return;
  }
  setProgress(1, 'Готово');
  view.result = result;
  renderTable(result.report, columns, keys);
  drawCharts(result);
  $('#report-csv').disabled = false;
  $('#report-xlsx').disabled = false;
}

/** The figures that are shares (0…1): read as percent here, as the XLSX formats them (reports/export.ts). */
const SHARES = new Set(['containment', 'serviceLevel']);
const cell = (v, key) => {
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'number') return v;
  return SHARES.has(key) ? `${(v * 100).toFixed(1).replace('.', ',')} %` : String(v).replace('.', ',');
};

/** The table as the CSV and XLSX hold it: the server's headings (`columns`) over the figures `keys`. */
function renderTable(report, columns, keys) {
  const cols = ['label', ...keys];
  $('#report-caption').textContent =
    `Отчёт ${breakdownRu[report.by] ?? report.by} за ${report.from} — ${report.to}. ${report.normNote ?? ''}`;
  $('#report-table thead').innerHTML =
    `<tr>${columns.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr>`;
  $('#report-table tbody').innerHTML =
    report.rows
      .map(
        (r) =>
          `<tr data-key="${esc(r.key)}">${cols.map((k, i) => (i === 0 ? `<th scope="row">${esc(r.label)}</th>` : `<td>${esc(cell(r[k], k))}</td>`)).join('')}</tr>`,
      )
      .join('') || `<tr><td colspan="${cols.length}">Нет данных за период</td></tr>`;
  $('#report-table tfoot').innerHTML =
    `<tr class="total">${cols.map((k, i) => (i === 0 ? '<th scope="row">Итого</th>' : `<td>${esc(cell(report.total[k], k))}</td>`)).join('')}</tr>`;
}

const percent = (share) => (typeof share === 'number' ? share * 100 : null);

function drawCharts(result) {
  for (const chart of view.charts) chart.destroy();
  view.charts = [];
  const bars = uPlot.paths.bars({ size: [0.7, 60] });
  const draw = (id, report, value, color, max) => {
    const box = $(`#${id}`);
    box.innerHTML = '';
    if (!report || report.rows.length === 0) {
      box.innerHTML = '<p class="hint">Нет данных для графика</p>';
      return;
    }
    // An hour's row is «10:00–11:00»: its axis says where it starts.
    const labels = report.rows.map((r) => (report.by === 'hour' ? String(r.label).split('–')[0] : r.label));
    const xs = labels.map((_, i) => i);
    const ys = report.rows.map(value);
    const width = Math.max(240, Math.min(box.clientWidth || 360, 640));
    const chart = new uPlot(
      {
        width,
        height: 200,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, range: [-0.5, xs.length - 0.5] }, y: { range: [0, max ?? null] } },
        axes: [
          {
            values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? (labels[t] ?? '') : '')),
            space: 48,
          },
          { size: 40 },
        ],
        series: [{}, { stroke: color, fill: `${color}99`, paths: bars, points: { show: false } }],
      },
      [xs, ys],
      box,
    );
    box.setAttribute(
      'aria-label',
      labels.map((l, i) => `${l}: ${ys[i] === null ? 'нет данных' : Math.round(ys[i])}`).join('; '),
    );
    view.charts.push(chart);
  };
  draw('chart-hour', result.charts.hour, (r) => r.offered ?? 0, '#1f5fa8');
  draw('chart-topic', result.charts.topic, (r) => percent(r.containment), '#2e7d32', 100);
  draw('chart-day', result.charts.day, (r) => percent(r.serviceLevel), '#b26a00', 100);
}

async function download(format) {
  if (!view.run) return;
  const res = await fetch(`/api/reports/runs/${encodeURIComponent(view.run.id)}?format=${format}`, {
    headers: { authorization: `Bearer ${state.token}` },
  });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    $('#report-error').textContent = body.message ?? `Ошибка ${res.status}`;
    return;
  }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await res.blob());
  link.download = `otklik-122-${view.run.from}-${view.run.to}-${view.run.by}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
}

async function renderSchedules() {
  const { schedules } = await api('/api/reports/schedules');
  const kindRu = { daily: 'Ежедневный отчёт', weekly: 'Еженедельный отчёт' };
  $('#report-schedules').innerHTML = schedules
    .map(
      (
        s,
      ) => `<form class="report-schedule" data-kind="${esc(s.kind)}"><fieldset><legend>${esc(kindRu[s.kind])}</legend>
  <label><input type="checkbox" name="enabled"${s.enabled ? ' checked' : ''}> Отправлять</label>
  <label>Адреса (через запятую) <input name="recipients" type="text" value="${esc(s.recipients.join(', '))}" autocomplete="off"></label>
  <label>Формат <select name="format"><option value="xlsx"${s.format === 'xlsx' ? ' selected' : ''}>XLSX</option><option value="csv"${s.format === 'csv' ? ' selected' : ''}>CSV</option></select></label>
  <label>Час отправки <input name="sendHour" type="number" min="0" max="23" value="${s.sendHour}"></label>
  <button type="submit">Сохранить</button> <span class="hint" role="status"></span>
</fieldset></form>`,
    )
    .join('');
  for (const form of document.querySelectorAll('#report-schedules form')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const note = form.querySelector('[role=status]');
      try {
        await api(`/api/reports/schedules/${form.dataset.kind}`, {
          method: 'PUT',
          body: JSON.stringify({
            enabled: data.get('enabled') === 'on',
            recipients: String(data.get('recipients'))
              .split(/[,;\s]+/)
              .filter(Boolean),
            format: data.get('format'),
            by: 'day',
            sendHour: Number(data.get('sendHour')),
          }),
        });
        note.textContent = 'Сохранено';
      } catch (err) {
        note.textContent = err.message;
      }
    });
  }
}

export async function reportsPage() {
  if (!view.built) skeleton();
  const form = $('#report-form');
  if (!form.elements.from.value) {
    const today = new Date().toISOString().slice(0, 10);
    form.elements.from.value = today;
    form.elements.to.value = today;
  }
  await renderSchedules().catch((err) => ($('#report-error').textContent = err.message));
}
