/**
 * The problems of a KB check (document.ts, references.ts, flow-check.ts) in Russian, for the editors' web
 * studio. The checks speak English, as the CLI's import and the logs do; the admin API gives people the same
 * problem in Russian: `flow "default", step "ask": unknown prompt "x"` → `сценарий «default», шаг «ask»: нет
 * фразы бота «x»`. A message this file does not know is given as it is.
 */
const q = (s: string) => `«${s}»`;

const what: Record<string, string> = {
  prompt: 'фразы бота',
  menu: 'голосового меню',
  intent: 'намерения',
  topic: 'темы',
  agency: 'ведомства',
  participant: 'участника',
  schedule: 'графика',
  flow: 'сценария',
  step: 'шага',
};

const fieldWhat: Record<string, string> = {
  id: 'идентификатор',
  number: 'номер',
  date: 'дата',
  intent: 'намерение',
};

/** Patterns of the checks' messages, tried in order; the place (`flow "…", step "…": `) is handled apart. */
const rules: Array<[RegExp, (...m: string[]) => string]> = [
  [/^leads to unknown step "(.*)"$/, (s) => `ведёт к шагу ${q(s!)}, которого нет в сценарии`],
  [/^unknown step type "?(.*?)"?$/, (t) => `неизвестный тип шага ${q(t!)}`],
  [
    /^unknown (prompt|menu|intent|topic|agency|participant|schedule|flow|step) "(.*)"$/,
    (k, v) => `нет ${what[k!]} ${q(v!)}`,
  ],
  [/^duplicate step id "(.*)"$/, (s) => `шаг ${q(s!)} встречается дважды`],
  [/^duplicate (\w+) "(.*)"$/, (f, v) => `${fieldWhat[f!] ?? f} ${q(v!)} встречается дважды`],
  [/^unknown field "(.*)"$/, (f) => `неизвестное поле ${q(f!)}`],
  [
    /^flow "(.*)" reads an agency answer: only the line's own calls run it$/,
    (f) => `сценарий ${q(f!)} зачитывает ответ уполномоченного лица: его запускают только звонки самой линии`,
  ],
  [
    /^menu "(.*)" item "(.*)" leads to "(.*)", but the step has no on\.(.*)$/,
    (m, d, o, on) => `пункт ${q(d!)} меню ${q(m!)} ведёт к исходу ${q(o!)}, а у шага нет перехода on.${on}`,
  ],
  [/^digit "(.*)" is used twice in menu "(.*)"$/, (d, m) => `цифра ${q(d!)} дважды в меню ${q(m!)}`],
  [
    /^a branch by (\w+) has no case "(.*)" \(its cases: (.*)\)$/,
    (b, v, all) => `ветвление по ${b} не знает значения ${q(v!)} (возможные: ${all})`,
  ],
  [/^the document's id is "(.*)"$/, (v) => `в документе указан другой идентификатор: ${q(v!)}`],
  [/^a flow is a mapping with id and steps$/, () => 'сценарий — это объект с полями id и steps'],
  [/^must not be empty$/, () => 'не может быть пустым'],
  [/^a digit is one of 0-9, \* or #$/, () => 'цифра — одна из 0–9, * или #'],
  [/^(ids|step ids) are lower-case ASCII.*$/, () => 'только строчные латинские буквы, цифры и знаки _ . -'],
  [/^expected a phone number.*$/, () => 'нужен номер телефона, например «122» или «+7 800 200-01-22»'],
  [/^a number has 2 to 15 digits$/, () => 'в номере должно быть от 2 до 15 цифр'],
  [/^Invalid input: expected (\w+), received (\w+)$/, (e, r) => `ожидается ${e}, получено ${r}`],
  [/^Invalid input(.*)$/, (rest) => `недопустимое значение${rest}`],
];

function place(text: string): { where: string; rest: string } {
  const m = /^flow "([^"]*)"(?:, step (?:"([^"]*)"|at steps\[(\d+)\]))?: (.*)$/s.exec(text);
  if (!m) return { where: '', rest: text };
  const step =
    m[2] !== undefined ? `, шаг ${q(m[2])}` : m[3] !== undefined ? `, шаг №${Number(m[3]) + 1}` : '';
  return { where: `сценарий ${q(m[1]!)}${step}: `, rest: m[4]! };
}

/** One problem's message in Russian. */
export function russianIssue(message: string): string {
  const { where, rest } = place(message);
  for (const [pattern, say] of rules) {
    const m = pattern.exec(rest);
    if (m) return where + say(...m.slice(1));
  }
  return where + rest;
}

/** «1 ошибка», «2 ошибки», «5 ошибок». */
export function problemsRu(n: number): string {
  const ten = n % 10;
  const hundred = n % 100;
  const word =
    ten === 1 && hundred !== 11
      ? 'ошибка'
      : ten >= 2 && ten <= 4 && (hundred < 12 || hundred > 14)
        ? 'ошибки'
        : 'ошибок';
  return `${n} ${word}`;
}
