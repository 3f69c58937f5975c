/// <reference lib="dom" />
/// <reference lib="deno.ns" />
/**
 * The self-service token page (`/tokens/manage`) driven in real headless
 * Chromium against a real gateway: sign-in by password and by a Bearer
 * credential of another provider, plain-words failures (wrong password,
 * throttled, identity service down), create → use → list → revoke → refused,
 * keyboard only, nothing left in browser storage or URLs, layout at 360 and
 * 1280 px (screenshots), and cross-site pages unable to create tokens.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, HTTPRequest, Page } from "puppeteer-core";
import { launchBrowser } from "../support/browser.ts";
import { basicAuth, startGateway, testConfig, type TestGateway } from "../support/gateway.ts";
import { removeDir, systemTest, tempDir } from "../support/system.ts";

const TEST_BEARER = new URL("../fixtures/plugins/test_bearer.ts", import.meta.url).href;
const PARTNER_TOKEN = "partner-access-token-7f3a";
const TOKEN = /^aot_[A-Za-z0-9_-]{43}$/;

function config(kvPath: string, extraProviders = ""): string {
  return testConfig(
    `auth:
  brute_force: { max_failures: 3, window_s: 60, block_s: 90 }
providers:
  - type: plain
    name: people
    realm: demo
    users:
      - { username: alice, password: alice-password, roles: [user] }
      - { username: carol, password: carol-password, roles: [user] }
      - { username: kim, password: kim-password, roles: [user] }
      - { username: lee, password: lee-password, roles: [user] }
      - { username: quinn, password: quinn-password, roles: [user] }
  - module: ${TEST_BEARER}
    name: partner-idp
    realm: partners
    token: ${PARTNER_TOKEN}
    username: pat
${extraProviders}`,
    { store: `{ enabled: true, path: "${kvPath}", default_ttl: 86400, max_ttl: 2592000 }` },
  );
}

/** Finds a control by role and accessible name (the names the issue promises). */
function byName(role: string, name: string): string {
  return `::-p-aria([name="${name}"][role="${role}"])`;
}

async function fill(page: Page, label: string, value: string): Promise<void> {
  const field = await page.waitForSelector(byName("textbox", label));
  await field!.click({ count: 3 });
  await field!.type(value);
}

async function click(page: Page, role: string, name: string): Promise<void> {
  const control = await page.waitForSelector(byName(role, name), { visible: true });
  await control!.click();
}

async function signInWithPassword(page: Page, username: string, password: string): Promise<void> {
  await fill(page, "Username", username);
  await fill(page, "Password", password);
  await click(page, "button", "Sign in");
}

/** Waits for the signed-in view and its token list (`#token-table` or `#empty` shown). */
async function waitSignedIn(page: Page): Promise<void> {
  await page.waitForSelector(byName("heading", "Your account"), { visible: true });
  await page.waitForSelector("#token-table:not([hidden]), #empty:not([hidden])");
}

async function problem(page: Page): Promise<string> {
  const alert = await page.waitForSelector("#problem:not([hidden])");
  return (await alert!.evaluate((e) => e.textContent ?? "")).trim();
}

async function tableRows(page: Page): Promise<string[][]> {
  return await page.$$eval(
    "#token-rows tr",
    (rows) => rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent ?? "")),
  );
}

async function createViaForm(page: Page, name: string, lifetime?: string): Promise<string> {
  await fill(page, "Name", name);
  if (lifetime) {
    const select = await page.waitForSelector(byName("combobox", "Lifetime"));
    await select!.select(lifetime);
  }
  await click(page, "button", "Create");
  const field = await page.waitForSelector(byName("textbox", "New token"), { visible: true });
  await page.waitForFunction(
    (n) => [...document.querySelectorAll("#token-rows td")].some((td) => td.textContent === n),
    {},
    name,
  );
  return await field!.evaluate((e) => (e as HTMLInputElement).value);
}

async function authenticate(gw: TestGateway, token: string): Promise<number> {
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: `Bearer ${token}` },
  });
  return res.status;
}

interface Visit {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the page requested. */
  readonly urls: string[];
  /** Every request the page sent to the gateway's token API, with its answer's headers. */
  readonly api: { method: string; url: string; cacheControl: string | undefined }[];
  /** Console errors (a CSP violation is reported there). */
  readonly errors: string[];
}

/** Opens the page in a fresh incognito-like context. */
async function visit(browser: Browser, gw: TestGateway, width = 1280): Promise<Visit> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width, height: 900 });
  const urls: string[] = [];
  const api: Visit["api"] = [];
  const errors: string[] = [];
  page.on("request", (req: HTTPRequest) => urls.push(req.url()));
  page.on("response", (res) => {
    const path = new URL(res.url()).pathname;
    if (path === "/tokens" || path.startsWith("/token/") || path === "/whoami") {
      api.push({
        method: res.request().method(),
        url: res.url(),
        cacheControl: res.headers()["cache-control"],
      });
    }
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  const res = await page.goto(`${gw.url}/tokens/manage`);
  assert.equal(res?.status(), 200);
  return { context, page, urls, api, errors };
}

const STEP = { sanitizeOps: false, sanitizeResources: false } as const;

systemTest("token page in headless Chromium", ["chromium"], async (t) => {
  const dir = await tempDir("token-page");
  await using browser = await launchBrowser();
  await using gw = await startGateway(config(`${dir}/tokens.kv`));
  try {
    await t.step({
      ...STEP,
      name: "loads only its own script, style and images; no CSP violation",
      fn: async () => {
        const v = await visit(browser.browser, gw);
        await v.page.waitForSelector(byName("button", "Sign in"));
        const paths = v.urls.map((u) => {
          assert.ok(u.startsWith(gw.url + "/"), `only same-origin requests: ${u}`);
          return new URL(u).pathname;
        }).sort();
        for (const path of ["/static/tokens.css", "/static/tokens.js", "/tokens/manage"]) {
          assert.ok(paths.includes(path), `${path} requested: ${paths}`);
        }
        // The script ran (it hides nothing until sign-in, but it handles the form).
        assert.equal(await v.page.$eval("#account", (e) => (e as HTMLElement).hidden), true);
        assert.deepEqual(v.errors, []);
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "wrong password: 'Wrong username or password.', still signed out",
      fn: async () => {
        const v = await visit(browser.browser, gw);
        // Each 401 is answered on the page, not by a browser login prompt: with any
        // credentials mode but "omit", Chromium waits for the prompt and this step times out.
        await signInWithPassword(v.page, "alice", "not-her-password");
        assert.equal(await problem(v.page), "Wrong username or password.");
        assert.equal(await v.page.$eval("#account", (e) => (e as HTMLElement).hidden), true);
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "throttled sign-in: too many attempts, with the wait time",
      fn: async () => {
        const v = await visit(browser.browser, gw);
        for (let i = 0; i < 3; i++) {
          await signInWithPassword(v.page, "carol", `guess-${i}`);
          assert.equal(await problem(v.page), "Wrong username or password.");
        }
        await signInWithPassword(v.page, "carol", "carol-password");
        await v.page.waitForFunction(() =>
          document.getElementById("problem")?.textContent?.startsWith("Too many")
        );
        const wait = /^Too many failed attempts\. Wait (\d+) seconds before trying again\.$/
          .exec(await problem(v.page));
        assert.ok(wait, "the wait time in plain words");
        const seconds = Number(wait[1]);
        assert.ok(seconds > 0 && seconds <= 90, `within block_s: ${seconds}`);
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "sign in, create a token, use it, see it listed, revoke it, see it refused",
      fn: async () => {
        const v = await visit(browser.browser, gw);
        await signInWithPassword(v.page, "alice", "alice-password");
        await waitSignedIn(v.page);
        assert.equal(await v.page.$eval("#who-username", (e) => e.textContent), "alice");
        assert.equal(await v.page.$eval("#who-realm", (e) => e.textContent), "demo");
        assert.deepEqual(
          await v.page.$$eval("#token-table th", (ths) => ths.map((th) => th.textContent?.trim())),
          ["Name", "Prefix", "Created", "Expires", "Last used", "Actions"],
        );
        assert.deepEqual(
          await v.page.$$eval("#token-lifetime option", (os) => os.map((o) => o.textContent)),
          ["1 day", "7 days", "30 days"],
          "choices up to store.max_ttl (30 days)",
        );

        const before = Date.now();
        const token = await createViaForm(v.page, "nightly backup", "604800");
        assert.match(token, TOKEN);
        assert.match(
          await v.page.$eval("#new-token", (e) => e.textContent ?? ""),
          /you will not see it again/,
        );
        assert.equal(await authenticate(gw, token), 200, "the new token authenticates");

        const rows = await tableRows(v.page);
        assert.equal(rows.length, 1);
        const [name, prefix, created, expires, lastUsed, action] = rows[0]!;
        assert.equal(name, "nightly backup");
        assert.equal(prefix, `${token.slice(0, 12)}…`);
        const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
        const after = Date.now();
        assert.ok([day(before), day(after)].includes(created!.slice(0, 10)), created);
        const week = 7 * 86_400_000;
        assert.ok([day(before + week), day(after + week)].includes(expires!.slice(0, 10)), expires);
        assert.match(created!, /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
        assert.equal(lastUsed, "never", "the listing was read before the token was used");
        assert.equal(action, "Revoke");

        // The JSON API agrees.
        const listed = await gw.request("/tokens", {
          headers: { authorization: basicAuth("alice:alice-password") },
        });
        assert.equal(JSON.parse(listed.body).tokens[0].name, "nightly backup");

        // Revoke asks first; Cancel keeps the token.
        await click(v.page, "button", "Revoke");
        await v.page.waitForSelector("#confirm-revoke[open]");
        assert.match(
          await v.page.$eval("#confirm-text", (e) => e.textContent ?? ""),
          /Revoke "nightly backup" \(aot_/,
        );
        await click(v.page, "button", "Cancel");
        await v.page.waitForSelector("#confirm-revoke:not([open])");
        assert.equal((await tableRows(v.page)).length, 1, "cancel keeps the row");
        assert.equal(await authenticate(gw, token), 200, "and the token");

        await click(v.page, "button", "Revoke");
        await click(v.page, "button", "Yes, revoke");
        await v.page.waitForFunction(() =>
          document.querySelectorAll("#token-rows tr").length === 0
        );
        assert.equal(await v.page.$eval("#empty", (e) => (e as HTMLElement).hidden), false);
        assert.equal(await authenticate(gw, token), 401, "a revoked token is refused");

        const deletes = v.api.filter((a) => a.method === "DELETE");
        assert.equal(deletes.length, 1);
        assert.match(deletes[0]!.url, /\/token\/[0-9a-f-]{36}$/, "deleted by id, not by secret");
        const created_ = v.api.find((a) => a.method === "POST");
        assert.equal(created_?.cacheControl, "no-store", "the answer carrying the token");
        assert.deepEqual(v.errors, []);
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "token sign-in with a Bearer credential of another provider",
      fn: async () => {
        const v = await visit(browser.browser, gw);
        await fill(v.page, "Token", "not-a-known-token");
        await click(v.page, "button", "Use token");
        assert.equal(await problem(v.page), "This token was not accepted.");

        await fill(v.page, "Token", PARTNER_TOKEN);
        await click(v.page, "button", "Use token");
        await waitSignedIn(v.page);
        assert.equal(await v.page.$eval("#who-username", (e) => e.textContent), "pat");
        assert.equal(await v.page.$eval("#who-realm", (e) => e.textContent), "partners");
        assert.equal(await v.page.$eval("#problem", (e) => (e as HTMLElement).hidden), true);
        const token = await createViaForm(v.page, "partner script");
        assert.equal(await authenticate(gw, token), 200);
        const whoami = await gw.request("/whoami", {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(JSON.parse(whoami.body).username, "pat");
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "keyboard only: sign in, create, copy, revoke",
      fn: async () => {
        const v = await visit(browser.browser, gw);
        await v.context.overridePermissions(gw.url, [
          "clipboard-read",
          "clipboard-sanitized-write",
        ]);
        const { keyboard } = v.page;
        const focused = () => v.page.evaluate(() => document.activeElement?.id ?? "");
        // The first Tab from the top reaches the home link, then the username field.
        await keyboard.press("Tab");
        await keyboard.press("Tab");
        assert.equal(await focused(), "username");
        await keyboard.type("kim");
        await keyboard.press("Tab");
        assert.equal(await focused(), "password");
        await keyboard.type("kim-password");
        await keyboard.press("Enter");
        await waitSignedIn(v.page);
        assert.equal(await focused(), "account-title", "focus moves to the signed-in view");

        await keyboard.press("Tab");
        assert.equal(await focused(), "sign-out");
        await keyboard.press("Tab");
        assert.equal(await focused(), "token-name");
        await keyboard.type("keyboard token");
        await keyboard.press("Tab");
        assert.equal(await focused(), "token-lifetime");
        await keyboard.press("ArrowDown");
        assert.equal(
          await v.page.$eval("#token-lifetime", (e) => (e as HTMLSelectElement).value),
          "604800",
        );
        await keyboard.press("Tab");
        assert.equal(await v.page.evaluate(() => document.activeElement?.textContent), "Create");
        await keyboard.press("Enter");
        await v.page.waitForSelector("#new-token:not([hidden])");
        assert.equal(await focused(), "new-token-value", "focus on the new token");
        const token = await v.page.$eval("#new-token-value", (e) => (e as HTMLInputElement).value);
        assert.match(token, TOKEN);

        await keyboard.press("Tab");
        assert.equal(await focused(), "copy");
        await keyboard.press("Enter");
        await v.page.waitForFunction(() => document.getElementById("copy-status")?.textContent);
        assert.equal(
          await v.page.$eval("#copy-status", (e) => e.textContent),
          "Copied to the clipboard.",
        );
        assert.equal(await v.page.evaluate(() => navigator.clipboard.readText()), token);

        await v.page.waitForFunction(() =>
          document.querySelectorAll("#token-rows tr").length === 1
        );
        await keyboard.press("Tab");
        assert.equal(await v.page.evaluate(() => document.activeElement?.textContent), "Revoke");
        await keyboard.press("Enter");
        await v.page.waitForSelector("#confirm-revoke[open]");
        assert.equal(await v.page.evaluate(() => document.activeElement?.textContent), "Cancel");
        await keyboard.press("Tab");
        assert.equal(
          await v.page.evaluate(() => document.activeElement?.textContent),
          "Yes, revoke",
        );
        await keyboard.press("Enter");
        await v.page.waitForFunction(() =>
          document.querySelectorAll("#token-rows tr").length === 0
        );
        assert.equal(await focused(), "list-title");
        assert.equal(await authenticate(gw, token), 401);
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "other refusals in the gateway's own words (quota reached), still signed in",
      fn: async () => {
        const quinn = { authorization: basicAuth("quinn:quinn-password") };
        for (let i = 0; i < 100; i++) {
          const { res } = await gw.request("/tokens", { method: "POST", headers: quinn });
          assert.equal(res.status, 200);
        }
        const v = await visit(browser.browser, gw);
        await signInWithPassword(v.page, "quinn", "quinn-password");
        await waitSignedIn(v.page);
        assert.equal((await tableRows(v.page)).length, 100);
        await fill(v.page, "Name", "one too many");
        await click(v.page, "button", "Create");
        assert.equal(await problem(v.page), "At most 100 tokens per user.");
        assert.equal(await v.page.$eval("#account", (e) => (e as HTMLElement).hidden), false);
        assert.equal(await v.page.$eval("#new-token", (e) => (e as HTMLElement).hidden), true);
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "no credential in cookies, storage, IndexedDB, cache or URLs; reload signs out",
      fn: async () => {
        const v = await visit(browser.browser, gw);
        await signInWithPassword(v.page, "lee", "lee-password");
        await waitSignedIn(v.page);
        const token = await createViaForm(v.page, "storage check");
        const stored = await v.page.evaluate(async () => ({
          cookie: document.cookie,
          local: localStorage.length,
          session: sessionStorage.length,
          databases: (await indexedDB.databases()).length,
          caches: (await caches.keys()).length,
          // The username stays (it is no secret); the secret fields are emptied.
          secretFields: [...document.querySelectorAll("input[type=password]")]
            .map((i) => (i as HTMLInputElement).value)
            .join(""),
        }));
        assert.deepEqual(stored, {
          cookie: "",
          local: 0,
          session: 0,
          databases: 0,
          caches: 0,
          secretFields: "",
        });
        assert.deepEqual(await v.context.cookies(), []);
        for (const url of v.urls) {
          for (const secret of ["lee-password", token, btoa("lee:lee-password")]) {
            assert.ok(!url.includes(secret), `no credential in ${url}`);
          }
        }
        await v.page.reload();
        await v.page.waitForSelector(byName("button", "Sign in"), { visible: true });
        assert.equal(await v.page.$eval("#account", (e) => (e as HTMLElement).hidden), true);
        assert.equal(
          await v.page.$eval("#new-token-value", (e) => (e as HTMLInputElement).value),
          "",
        );
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "readable at 360 and 1280 px (screenshots of the signed-in page)",
      fn: async () => {
        const shots = Deno.env.get("AOT_SCREENSHOT_DIR") ?? `${dir}/screenshots`;
        await Deno.mkdir(shots, { recursive: true });
        const v = await visit(browser.browser, gw);
        await signInWithPassword(v.page, "alice", "alice-password");
        await waitSignedIn(v.page);
        await createViaForm(v.page, "ci deploy", "2592000");
        await createViaForm(v.page, "laptop backup");
        for (const width of [1280, 360]) {
          await v.page.setViewport({ width, height: 900 });
          const overflow = await v.page.evaluate(() =>
            document.documentElement.scrollWidth - document.documentElement.clientWidth
          );
          assert.equal(overflow, 0, `no horizontal scrolling at ${width} px`);
          const path = `${shots}/tokens-manage-${width}.png`;
          await v.page.screenshot({ path: path as `${string}.png`, fullPage: true });
          assert.ok((await Deno.stat(path)).size > 10_000, `${path} written`);
        }
        await v.context.close();
      },
    });

    await t.step({
      ...STEP,
      name: "a cross-site page cannot create a token with the browser's cached Basic credentials",
      fn: async () => {
        // The attacker's page, on another site (localhost vs 127.0.0.1): a form posting a
        // JSON-looking text/plain body, and a link that would create a token with GET /token.
        const evilPage = `<form id="post" method="post" action="${gw.url}/tokens"
            enctype="text/plain"><input name='{"name":"evil","x":"' value='"}'></form>
          <a id="link" href="${gw.url}/token?name=evil">free stuff</a>`;
        await using evil = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen() {} },
          () => new Response(evilPage, { headers: { "content-type": "text/html" } }),
        );
        const evilUrl = `http://localhost:${evil.addr.port}/`;
        const context = await browser.browser.createBrowserContext();
        const page = await context.newPage();
        // The browser answers every Basic challenge with alice's password, as after a prompt.
        await page.authenticate({ username: "alice", password: "alice-password" });
        const answers: string[] = [];
        page.on("response", (res) => {
          if (!res.url().startsWith(gw.url) || res.url().endsWith("/favicon.ico")) return;
          answers.push(`${res.request().method()} ${new URL(res.url()).pathname} ${res.status()}`);
        });
        for (const attack of ["post", "link"]) {
          await page.goto(evilUrl);
          await Promise.all([
            page.waitForNavigation(),
            page.evaluate((id) => {
              const element = document.getElementById(id)!;
              if (element instanceof HTMLFormElement) element.submit();
              else element.click();
            }, attack),
          ]);
        }
        await context.close();
        assert.ok(answers.includes("POST /tokens 403"), `form refused: ${answers}`);
        assert.ok(answers.includes("GET /token 403"), `link refused: ${answers}`);
        assert.ok(!answers.some((a) => a.endsWith(" 200")), `nothing created: ${answers}`);
        const listed = await gw.request("/tokens", {
          headers: { authorization: basicAuth("alice:alice-password") },
        });
        const names = JSON.parse(listed.body).tokens.map((t: { name: string }) => t.name);
        assert.ok(!names.includes("evil"), `no token named evil: ${names}`);
      },
    });

    await t.step({
      ...STEP,
      name: "identity service down: 'unavailable', not 'wrong token'",
      fn: async () => {
        await using down = await startGateway(config(
          `${dir}/down.kv`,
          `  - module: ${TEST_BEARER}
    name: down-idp
    realm: elsewhere
    mode: unavailable
`,
        ));
        const v = await visit(browser.browser, down);
        await fill(v.page, "Token", "some-access-token");
        await click(v.page, "button", "Use token");
        assert.match(
          await problem(v.page),
          /^The identity service is unavailable\. Try again in 5 seconds\.$/,
        );
        await v.context.close();
      },
    });
  } finally {
    await removeDir(dir);
  }
});
