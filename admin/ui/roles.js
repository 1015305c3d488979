// Which pages of the staff UI each role may open, and where each role lands after signing in. One table, used
// both for the menu (a role sees only the links it may open) and for the router (a page the role may not
// open leads to its landing page). The API checks the same roles on every route; this only spares people
// pages that would refuse them.

/** Role → the pages (section ids, nav `data-page`) it may open; `*`: every page (the admin). */
export const rolePages = {
  admin: '*',
  supervisor: [
    'wall',
    'desk',
    'overview',
    'calls',
    'inquiries',
    'kb',
    'incidents',
    'reports',
    'quality',
    'inbox',
    'staff',
    'audit',
    'history',
    'refs',
    'training',
    'intents',
    'content',
    'answers',
  ],
  // The studio: editors change the knowledge base and train; approvers read it, check phrases and approve.
  editor: [
    'kb',
    'answers',
    'intents',
    'training',
    'inbox',
    'try',
    'content',
    'refs',
    'history',
    'incidents',
    'quality',
  ],
  approver: ['kb', 'answers', 'intents', 'try', 'content', 'refs', 'history'],
  operator: ['desk', 'overview', 'calls', 'inquiries', 'kb', 'incidents'],
};

/** Where each role starts: the page of its daily work. */
export const landingPages = {
  admin: 'users',
  supervisor: 'wall',
  editor: 'intents',
  approver: 'answers',
  operator: 'desk',
};

export function mayOpen(role, page) {
  const pages = rolePages[role];
  return pages === '*' || (Array.isArray(pages) && pages.includes(page));
}

export const landingPage = (role) => landingPages[role] ?? 'login';

/** The page to show for `requested`: itself when the role may open it (and it exists), else the landing page. */
export function pageFor(role, requested, exists = () => true) {
  return requested && mayOpen(role, requested) && exists(requested) ? requested : landingPage(role);
}

/** Shows only the menu links the role may open. */
export function applyNav(role) {
  for (const link of document.querySelectorAll('#nav a[data-page]'))
    link.hidden = !mayOpen(role, link.dataset.page);
}

export const roleRu = {
  admin: 'администратор',
  supervisor: 'старший смены',
  editor: 'редактор базы знаний',
  approver: 'согласующий',
  operator: 'оператор',
};
