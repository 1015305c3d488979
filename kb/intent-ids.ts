import type { TopicId } from './types.js';

/**
 * The intent ids of the fixed contract (../shared/contracts/intents.json), copied here so that the store can
 * check them without reaching outside the repository. Keep in sync with the contract; it does not change.
 */
export interface ContractIntent {
  id: string;
  topic: TopicId;
  title: string;
}

export const contractIntents: readonly ContractIntent[] = [
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

export const contractIntentIds: ReadonlySet<string> = new Set(contractIntents.map((i) => i.id));

export const topicIds: readonly TopicId[] = [
  'health',
  'military',
  'refugees',
  'services',
  'social',
  'education',
  'service',
  'dialog',
];
