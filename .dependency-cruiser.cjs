// The part rules of ARCHITECTURE.md, checked by test/architecture.test.ts (and `npx depcruise -c
// .dependency-cruiser.cjs .` by hand). Tests, benchmarks and test doubles may import any part; product code may not.
const parts = '(core|store|media|kb|nlu|speech|models|calls|voicebot|telephony|inquiries|admin|cli)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycle-between-folders',
      comment: 'Folders (top-level parts and the folders inside them) import each other one way only.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-cycle-between-files',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'voicebot-not-telephony',
      comment:
        'The voice bot reaches the queue, forwards and callbacks through the injected hand-off (media/handoff.ts).',
      severity: 'error',
      from: { path: '^voicebot/' },
      to: { path: '^telephony/' },
    },
    {
      name: 'telephony-not-voicebot',
      comment: 'Telephony speaks to the bot only over the media socket; shared code lives in media/.',
      severity: 'error',
      from: { path: '^telephony/' },
      to: { path: '^voicebot/' },
    },
    {
      name: 'core-imports-no-part',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: `^${parts}/`, pathNot: '^core/' },
    },
    {
      name: 'store-and-media-are-neutral',
      comment: 'The store and the media part know no other part but core.',
      severity: 'error',
      from: { path: '^(store|media)/' },
      to: { path: `^${parts}/`, pathNot: '^(core|store|media)/' },
    },
    {
      name: 'only-the-root-imports-cli',
      comment: 'cli/ is the composition root: parts get typed options, never the root itself.',
      severity: 'error',
      from: { path: `^${parts}/`, pathNot: '^cli/' },
      to: { path: '^cli/' },
    },
    {
      name: 'kb-below-the-dialog',
      comment: 'The knowledge base is read by the dialog, telephony and admin, and imports none of them.',
      severity: 'error',
      from: { path: '^(kb|nlu)/' },
      to: { path: '^(voicebot|telephony|admin|inquiries|calls|speech)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: {
      path: '(^|/)(node_modules|data|test|bench|scripts)/|\\.test\\.ts$|/testing/|/fixtures/|/npm-stubs/',
    },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
