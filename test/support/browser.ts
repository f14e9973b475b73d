import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The Debian chromium that scripts/install-test-deps.sh installs. */
export const CHROMIUM = process.env.SWITCHYARD_CHROMIUM ?? '/usr/bin/chromium';

/*
 * Flags that keep the browser to itself: no sandbox (containers), no GPU, and no network beyond
 * loopback — without the resolver rule Chromium still looks up Google hosts (infra.md §4).
 */
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

export interface TestBrowser {
  page: Page;
  context: BrowserContext;
  /** Closes the browser (killing it if it does not close within `CLOSE_MS`) and removes its profile. Idempotent, never throws. */
  close(): Promise<void>;
}

const CLOSE_MS = 10_000;

/**
 * Launches headless Chromium with a fresh profile directory (Playwright does not accept
 * --user-data-dir in args, so the persistent context owns it) and one page of `viewport`.
 * Throws if the browser cannot start (the profile directory is removed first).
 */
export async function launchBrowser(viewport = { width: 1280, height: 900 }): Promise<TestBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport, timeout: 30_000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let closing: Promise<void> | undefined;
  const close = () => closing ??= (async () => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), CLOSE_MS); });
    const closed = context.close().then(() => false, () => false);
    // A hung close must not hang the test run: past the bound, kill this browser outright.
    if (await Promise.race([closed, timedOut])) killProfileProcesses(dir);
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  })();
  try {
    const page = context.pages()[0] ?? await context.newPage();
    return { page, context, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** SIGKILLs the processes started with this profile directory (only ours: the directory is fresh). */
function killProfileProcesses(dir: string): void {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone, or not ours to read */ }
  }
}
