/**
 * `/tokens/manage` and its files over HTTP: present only with the store on,
 * the security headers on every answer, no inline script or style, no
 * external asset, lifetime choices capped by `store.max_ttl`, the landing
 * page link.
 */
import assert from "node:assert/strict";
import {
  describeLifetime,
  lifetimeOptions,
  TOKEN_PAGE_CSP,
} from "../../lib/http/token_page_routes.ts";
import { startGateway, testConfig } from "../support/gateway.ts";

const PROVIDERS = `providers:
  - { type: plain, name: local, realm: demo, users: [{ username: u, password: p }] }
`;
const PAGE_FILES = ["/tokens/manage", "/static/tokens.js", "/static/tokens.css"];

async function withStore(
  store: string,
  fn: (gw: Awaited<ReturnType<typeof startGateway>>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "aot-token-page-" });
  try {
    await using gw = await startGateway(
      testConfig(PROVIDERS, { store: `{ enabled: true, path: "${dir}/t.kv", ${store} }` }),
    );
    await fn(gw);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("token page: every file carries the CSP, nosniff, no-referrer and no framing", async () => {
  await withStore("default_ttl: 3600, max_ttl: 86400", async (gw) => {
    const types = ["text/html", "text/javascript", "text/css"];
    for (const [i, path] of PAGE_FILES.entries()) {
      const { res, body } = await gw.request(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), `${types[i]}; charset=utf-8`);
      assert.equal(res.headers.get("content-security-policy"), TOKEN_PAGE_CSP);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      assert.ok(body.length > 500, `${path} has content`);
    }
    const page = await gw.request("/tokens/manage");
    assert.equal(
      page.res.headers.get("cache-control"),
      "no-store",
      "a signed-in page is never kept",
    );
    const head = await fetch(`${gw.url}/tokens/manage`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  });
});

Deno.test("token page: the CSP allows only 'self' and forbids inline code, framing and form posts", () => {
  const directives = new Map(
    TOKEN_PAGE_CSP.split(";").map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values.join(" ")];
    }),
  );
  assert.equal(directives.get("default-src"), "'none'");
  assert.equal(directives.get("frame-ancestors"), "'none'");
  assert.equal(directives.get("form-action"), "'none'");
  for (const kind of ["script-src", "style-src", "connect-src", "img-src"]) {
    assert.equal(directives.get(kind), "'self'", kind);
  }
  assert.ok(!TOKEN_PAGE_CSP.includes("unsafe"), "no 'unsafe-inline' or 'unsafe-eval'");
});

Deno.test("token page: no inline script or style, no external URL, every field labelled", async () => {
  await withStore("default_ttl: 3600, max_ttl: 86400", async (gw) => {
    const { body: html } = await gw.request("/tokens/manage");
    assert.doesNotMatch(html, /<style/i);
    assert.doesNotMatch(html, /\sstyle=/i);
    assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handler");
    const scripts = [...html.matchAll(/<script([^>]*)>/gi)].map((m) => m[1]!);
    assert.deepEqual(scripts, [' src="/static/tokens.js" defer']);
    const urls = [...html.matchAll(/\s(?:src|href|action)="([^"]*)"/gi)].map((m) => m[1]!);
    assert.ok(urls.length >= 4);
    for (const url of urls) assert.match(url, /^\/(?!\/)/, `same-origin path: ${url}`);
    const { body: css } = await gw.request("/static/tokens.css");
    assert.doesNotMatch(css, /url\(|@import|@font-face/i, "no external font or image");
    const { body: js } = await gw.request("/static/tokens.js");
    assert.doesNotMatch(js, /localStorage|sessionStorage|indexedDB|document\.cookie/);
    assert.doesNotMatch(js, /https?:\/\//, "calls only its own origin");
    // Each input/select has a <label for>.
    const ids = [...html.matchAll(/<(?:input|select)[^>]*\sid="([^"]+)"/gi)].map((m) => m[1]!);
    const labelled = new Set([...html.matchAll(/<label for="([^"]+)"/gi)].map((m) => m[1]!));
    assert.deepEqual(ids.filter((id) => !labelled.has(id)), []);
    // Forms post to the page itself (refused by CSP form-action): never a GET with fields in the URL.
    const forms = [...html.matchAll(/<form([^>]*)>/gi)].map((m) => m[1]!);
    assert.equal(forms.length, 4);
    for (const form of forms) assert.match(form, /method="(post|dialog)"/);
  });
});

Deno.test("token page: lifetime choices stop at store.max_ttl, the default preselected", async () => {
  await withStore("default_ttl: 600, max_ttl: 7200", async (gw) => {
    const { body } = await gw.request("/tokens/manage");
    const options = [...body.matchAll(/<option value="(\d+)"( selected)?>([^<]+)</g)]
      .map((m) => `${m[1]}${m[2] ?? ""} ${m[3]}`);
    assert.deepEqual(options, ["600 selected 10 minutes", "7200 2 hours"]);
  });
  assert.equal(
    lifetimeOptions({ defaultTtl: 2_592_000, maxTtl: 31_536_000 }),
    '<option value="86400">1 day</option><option value="604800">7 days</option>' +
      '<option value="2592000" selected>30 days</option><option value="7776000">90 days</option>' +
      '<option value="31536000">365 days</option>',
  );
  assert.equal(
    lifetimeOptions({ defaultTtl: 90, maxTtl: 90 }),
    '<option value="90" selected>90 seconds</option>',
  );
  assert.equal(describeLifetime(3_600), "1 hour");
  assert.equal(describeLifetime(86_400 * 2), "2 days");
});

Deno.test("token page: linked from / when the store is on; 404 with the store off", async () => {
  await withStore("default_ttl: 3600, max_ttl: 86400", async (gw) => {
    const { body } = await gw.request("/");
    assert.ok(body.includes('<a href="/tokens/manage">Your tokens</a>'), body);
    assert.ok(!body.includes("{{"), "no placeholder left");
  });
  await using off = await startGateway(testConfig(PROVIDERS));
  for (const path of PAGE_FILES) {
    const { res, body } = await off.request(path);
    assert.equal(res.status, 404, path);
    assert.equal(body, "");
  }
  const { body } = await off.request("/");
  assert.ok(!body.includes("/tokens/manage"));
  assert.ok(!body.includes("{{"), "no placeholder left");
});
