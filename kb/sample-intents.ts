/**
 * Topic and intent ids are the editors' choice: lower-case ASCII letters, digits, `_` and `.`, unique in
 * the KB. No list limits them (migration 0322 dropped the fixed CHECK).
 */
export const kbIdPattern = /^[a-z0-9_.]+$/;
export const kbIdRule = 'ids are lower-case ASCII letters, digits, "_" and "." ([a-z0-9_.]+)';

export function isKbId(id: string): boolean {
  return kbIdPattern.test(id);
}

/**
 * What the SAMPLE knowledge base must contain (../shared/contracts/intents.json), copied here so that its
 * test needs nothing outside the repository. It is not a limit: a region adds topics and intents of its own.
 */
export interface SampleIntent {
  id: string;
  topic: string;
  title: string;
}

export const sampleIntents: readonly SampleIntent[] = [
  { id: 'health.appointment', topic: 'health', title: 'Запись на приём к врачу' },
  { id: 'health.appointment_cancel', topic: 'health', title: 'Отмена или перенос записи' },
  { id: 'health.home_visit', topic: 'health', title: 'Вызов врача на дом' },
  { id: 'health.lab_tests', topic: 'health', title: 'Анализы и исследования' },
  { id: 'health.vaccination', topic: 'health', title: 'Вакцинация' },
  { id: 'health.covid', topic: 'health', title: 'Коронавирусная инфекция' },
  { id: 'health.checkup', topic: 'health', title: 'Диспансеризация' },
  { id: 'health.complaint', topic: 'health', title: 'Жалоба на медицинскую помощь' },
  { id: 'health.clinic_info', topic: 'health', title: 'Сведения о медорганизациях' },
  { id: 'military.contract', topic: 'military', title: 'Военная служба по контракту' },
  { id: 'military.mobilization', topic: 'military', title: 'Частичная мобилизация' },
  { id: 'military.family_support', topic: 'military', title: 'Поддержка мобилизованных и семей' },
  { id: 'refugees.payments', topic: 'refugees', title: 'Выплаты прибывшим' },
  { id: 'refugees.housing', topic: 'refugees', title: 'Размещение прибывших' },
  { id: 'refugees.documents', topic: 'refugees', title: 'Документы прибывших' },
  { id: 'services.gosuslugi', topic: 'services', title: 'Госуслуги и МФЦ' },
  { id: 'social.benefits', topic: 'social', title: 'Социальная поддержка' },
  { id: 'education.enrollment', topic: 'education', title: 'Образование' },
  { id: 'service.operator', topic: 'service', title: 'Соединить с оператором' },
  { id: 'service.callback', topic: 'service', title: 'Обратный звонок' },
  { id: 'emergency', topic: 'service', title: 'Экстренная ситуация' },
  { id: 'dialog.yes', topic: 'dialog', title: 'Согласие' },
  { id: 'dialog.no', topic: 'dialog', title: 'Отказ' },
  { id: 'dialog.repeat', topic: 'dialog', title: 'Повторить' },
  { id: 'dialog.goodbye', topic: 'dialog', title: 'Завершение' },
  { id: 'dialog.greeting', topic: 'dialog', title: 'Приветствие' },
  { id: 'out_of_scope', topic: 'dialog', title: 'Вне тематики' },
];

export const sampleIntentIds: ReadonlySet<string> = new Set(sampleIntents.map((i) => i.id));

/** The sample KB's topics. */
export const sampleTopicIds: readonly string[] = [
  'health',
  'military',
  'refugees',
  'services',
  'social',
  'education',
  'service',
  'dialog',
];
