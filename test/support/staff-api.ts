/**
 * The admin API as a signed-in staff member calls it, for the plugin tests: sign in with a password, then send
 * JSON (or nothing) with that member's bearer token and read the JSON answer.
 */
export async function signInStaff(base: string, login: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  const { token } = (await res.json()) as { token?: string };
  if (!token) throw new Error(`${login} could not sign in (HTTP ${res.status})`);
  return token;
}

export interface StaffAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the tests read the JSON answers field by field
  body: Record<string, any>;
}

/** A request as `login` (a token in `tokens`); `base` is read at call time (the app listens in `before`). */
export function staffRequest(base: () => string, tokens: ReadonlyMap<string, string>) {
  return async (method: string, path: string, login: string, body?: unknown): Promise<StaffAnswer> => {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens.get(login)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as StaffAnswer['body'] };
  };
}
