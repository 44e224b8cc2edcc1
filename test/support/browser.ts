import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { projectRoot } from '../../lib/project-root';

/** Where the browser tests keep their screenshots (gitignored; CI may upload the folder). */
export const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'console');

/**
 * Headless Chromium driven by playwright-core: Debian's chromium package (scripts/setup.sh installs it), or
 * CHROMIUM_PATH. Playwright's own browser download is not used. A fresh temporary profile per launch (Playwright's
 * default); no sandbox because tests and CI run as root; nothing that phones home.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: run npm run setup, or set CHROMIUM_PATH`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
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

/** Errors the page reports (console errors, Content-Security-Policy violations, uncaught exceptions), as they come. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}

/**
 * The console at `url` in a new browser context (1280 × 800, en-US, unless `options` say otherwise), signed in with
 * `key`: resolved once the console shows who is signed in. The page's errors are collected from the start.
 */
export async function signedIn(
  browser: Browser,
  url: string,
  key: string,
  options: BrowserContextOptions = {},
): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', ...options });
  const page = await context.newPage();
  const errors = pageErrors(page);
  await page.goto(`${url}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
