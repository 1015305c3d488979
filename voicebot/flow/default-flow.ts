/**
 * The built-in copy of the default call flow (kb/seed/flows.yaml, `default`). The bot runs it when the
 * knowledge base cannot give its `default` flow (unreadable, missing, or stored broken by an older version);
 * a test keeps the two equal. Another flow the KB cannot give is never replaced by this one.
 */
export const builtInDefaultFlow: unknown = {
  id: 'default',
  title: 'Основной сценарий линии 122: приветствие, меню, консультация, оператор, обращение',
  start: 'greeting',
  emergency: 'emergency',
  operator: 'operator',
  goodbye: 'finish',
  escalation: 'help',
  maxAsks: 2,
  noInputMs: 6000,
  steps: [
    {
      id: 'greeting',
      type: 'say',
      prompt: 'greeting',
      incidents: true,
      next: 'menu',
    },
    {
      id: 'menu',
      type: 'menu',
      menu: 'main',
      retries: 1,
      maxNoMatch: 2,
      on: {
        topic: 'ask',
        intent: 'route',
        queue: 'operator',
        forward: 'forward',
        message: 'anything_else',
        no_input: 'ask',
        no_match: 'help',
      },
    },
    {
      id: 'ask',
      type: 'listen',
      prompt: 'ask_question',
      digits: {
        '0': 'operator',
      },
      on: {
        intent: 'route',
        no_input: 'finish',
        no_match: 'help',
      },
    },
    {
      id: 'route',
      type: 'branch',
      by: 'intent',
      cases: {
        'service.operator': 'operator',
        'service.callback': 'callback',
        'dialog.goodbye': 'finish',
        'dialog.no': 'finish',
        'dialog.yes': 'ask',
      },
      default: 'check_confirm',
    },
    {
      id: 'check_confirm',
      type: 'branch',
      by: 'confirmation',
      cases: {
        needed: 'confirm',
      },
      default: 'by_handling',
    },
    {
      id: 'confirm',
      type: 'confirm',
      prompt: 'confirm',
      on: {
        yes: 'by_handling',
        no: 'ask',
        no_input: 'ask',
      },
    },
    {
      id: 'by_handling',
      type: 'branch',
      by: 'handling',
      cases: {
        answer: 'answer',
        operator: 'operator',
        forward: 'forward',
        inquiry: 'inquiry_answer',
      },
      default: 'ask',
    },
    {
      id: 'answer',
      type: 'answer',
      on: {
        answered: 'anything_else',
        unavailable: 'help',
      },
    },
    {
      id: 'inquiry_answer',
      type: 'answer',
      on: {
        answered: 'inquiry',
        unavailable: 'inquiry',
      },
    },
    {
      id: 'anything_else',
      type: 'listen',
      prompt: 'anything_else',
      digits: {
        '0': 'operator',
      },
      on: {
        intent: 'route',
        no_input: 'finish',
        no_match: 'help',
      },
    },
    {
      id: 'help',
      type: 'branch',
      by: 'operators_open',
      cases: {
        yes: 'operator',
      },
      default: 'after_hours',
    },
    {
      id: 'operator',
      type: 'enqueue',
      reason: 'caller_request',
      on: {
        closed: 'after_hours',
        failed: 'after_hours',
        unserved: 'chat_no_operator',
        overflow: 'queue_overflow',
      },
    },
    {
      id: 'chat_no_operator',
      type: 'say',
      prompt: 'chat_no_operator',
      next: 'inquiry',
    },
    {
      // The wait ended without an operator (the queue's overflow, or its announcements ran out): an inquiry.
      id: 'queue_overflow',
      type: 'say',
      prompt: 'queue_overflow_inquiry',
      next: 'inquiry',
    },
    {
      id: 'forward',
      type: 'forward',
      on: {
        closed: 'after_hours',
        failed: 'operator',
        no_agency: 'operator',
      },
    },
    {
      id: 'after_hours',
      type: 'say',
      prompt: 'after_hours',
      next: 'inquiry',
    },
    {
      id: 'inquiry',
      type: 'inquiry',
      offer: true,
      on: {
        registered: 'finish',
        declined: 'anything_else',
      },
    },
    {
      id: 'callback',
      type: 'inquiry',
      offer: false,
      on: {
        registered: 'finish',
        declined: 'anything_else',
      },
    },
    {
      id: 'emergency',
      type: 'emergency',
      prompt: 'emergency',
      next: 'emergency_operator',
    },
    {
      id: 'emergency_operator',
      type: 'enqueue',
      reason: 'emergency',
      on: {
        closed: 'anything_else',
        failed: 'anything_else',
        unserved: 'chat_no_operator',
        overflow: 'queue_overflow',
      },
    },
    {
      id: 'finish',
      type: 'branch',
      by: 'answered',
      cases: {
        yes: 'survey',
      },
      default: 'goodbye',
    },
    {
      id: 'survey',
      type: 'survey',
      afterOperator: true,
      next: 'goodbye',
    },
    {
      id: 'goodbye',
      type: 'hangup',
      prompt: 'goodbye',
    },
  ],
};
