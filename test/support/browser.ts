import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's chromium, driven by playwright-core (no browser download). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const browserMissing = existsSync(chromiumPath)
  ? false
  : `no chromium at ${chromiumPath} (apt-get install chromium)`;

/**
 * The browser runs on the real clock even when the tests run under faketime (a frozen clock stops
 * chromium's own timers and it hangs); what depends on time is set by the tests on the server side.
 */
function browserEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && k !== 'LD_PRELOAD' && !k.startsWith('FAKETIME')) env[k] = v;
  }
  return env;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    env: browserEnv(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A new page signed in to the staff UI at `base`, once the header names the member (`name`). */
export async function signInPage(
  browser: Browser,
  base: string,
  who: { login: string; password: string; name: string; width?: number; height?: number },
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: who.width ?? 1280, height: who.height ?? 900 } });
  await page.goto(base);
  await page.getByLabel('Логин').fill(who.login);
  await page.getByLabel('Пароль').fill(who.password);
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.locator('#whoami').filter({ hasText: who.name }).waitFor();
  return page;
}
