/** Citizens' questions the voice benchmarks ask, each answered by an approved script of the sample KB. */
export const questions = [
  'как записаться к терапевту',
  'где можно поставить прививку от гриппа',
  'какие выплаты положены беженцам',
  'как записать ребёнка в детский сад',
  'как пройти диспансеризацию',
  'как вызвать врача на дом',
];
