/**
 * Headless Chromium for browser tests: Debian's `chromium` driven by
 * `puppeteer-core`, with a fresh profile in a temp dir and everything that
 * would reach the Internet switched off.
 *
 * @module
 */

import puppeteer, { type Browser } from "puppeteer-core";
import { removeDir, requireBinary, tempDir } from "./system.ts";

/** A running browser; disposing closes it and removes its profile. */
export interface TestBrowser extends AsyncDisposable {
  /** The puppeteer handle. */
  readonly browser: Browser;
  /** The profile directory (`--user-data-dir`). */
  readonly profile: string;
}

/** Launches the `chromium` on PATH (register the test with `systemTest(…, ["chromium"], …)`). */
export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = requireBinary("chromium");
  const profile = await tempDir("chromium");
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      args: [
        "--no-sandbox",
        "--headless=new",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        `--user-data-dir=${profile}`,
      ],
    });
  } catch (error) {
    await removeDir(profile);
    throw error;
  }
  return {
    browser,
    profile,
    async [Symbol.asyncDispose]() {
      await browser.close();
      await removeDir(profile);
    },
  };
}
