import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { bearerConfig } from "../support/bearer.ts";
import { faults, json, startIdentityUpstream } from "../support/identity_upstream.ts";
import { nginxConfig, startNginx } from "../support/nginx.ts";
import { systemTest } from "../support/system.ts";

/** The NGINX snippet of docs/providers.md ("When an identity provider is down"). */
function protectedSite(port: number, gatewayPort: number): string {
  return nginxConfig(`  server {
    listen 127.0.0.1:${port};
    location = /_auth {
      internal;
      proxy_pass http://127.0.0.1:${gatewayPort}/authenticate;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }
    location /private/ {
      auth_request /_auth;
      auth_request_set $auth_status $upstream_status;
      error_page 500 = @auth_error;
      root html;
    }
    location /plain/ {
      auth_request /_auth;
      root html;
    }
    location @auth_error {
      if ($auth_status = 503) {
        add_header Retry-After 5 always;
        return 503 "identity provider unavailable, retry later\\n";
      }
      return 500;
    }
  }`);
}

systemTest(
  "NGINX auth_request surfaces the gateway's 503 (upstream down) as 503 with Retry-After, 401 stays 401",
  ["nginx"],
  async () => {
    await using up = startIdentityUpstream((req) => {
      const token = req.query.get("token");
      if (token === "good") return json({ uid: "adam" });
      if (token === "down") return faults.status(500);
      return json({ message: "invalid" }, 403);
    });
    await using gw = await startGateway(bearerConfig(`  - type: ecmwf-api
    name: api
    realm: ecmwf
    uri: ${up.url}`));
    const gatewayPort = gw.running.appAddr.port;
    await using proxy = await startNginx(({ port, dir }) => {
      // A static file: `return` would answer before auth_request runs.
      for (const folder of ["private", "plain"]) {
        Deno.mkdirSync(`${dir}/html/${folder}`, { recursive: true, mode: 0o755 });
        Deno.writeTextFileSync(`${dir}/html/${folder}/x`, "secret\n", { mode: 0o644 });
      }
      return protectedSite(port, gatewayPort);
    });
    const get = async (token: string, folder = "private") => {
      const res = await fetch(`${proxy.url}/${folder}/x`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return {
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        body: await res.text(),
      };
    };
    assert.deepEqual(await get("good"), { status: 200, retryAfter: null, body: "secret\n" });
    const rejected = await get("bad");
    assert.equal(rejected.status, 401);
    const down = await get("down");
    assert.equal(down.status, 503);
    assert.equal(down.retryAfter, "5");
    assert.equal(down.body, "identity provider unavailable, retry later\n");
    // Without the error_page, NGINX turns the gateway's 503 into a 500.
    assert.equal((await get("down", "plain")).status, 500);
    assert.equal((await get("bad", "plain")).status, 401);
  },
);
