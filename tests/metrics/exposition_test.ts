import assert from "node:assert/strict";
import { Registry } from "../../lib/observability/metrics_registry.ts";
import { CallbackFamily } from "../../lib/observability/metrics_families.ts";
import {
  escapeHelp,
  escapeLabelValue,
  formatNumber,
  METRICS_CONTENT_TYPE,
} from "../../lib/observability/prom_text.ts";
import { assertValidExposition } from "./exposition.ts";

Deno.test("formatNumber() prints the shortest form", () => {
  assert.deepEqual(
    [0, 1, 2.5, 0.001, 10, 1e21, Infinity, -Infinity, NaN, -0].map(formatNumber),
    ["0", "1", "2.5", "0.001", "10", "1e+21", "+Inf", "-Inf", "NaN", "0"],
  );
});

Deno.test("escapeLabelValue() escapes backslash, quote and line feed only", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd\te'), 'a\\\\b\\"c\\nd\te');
  assert.equal(escapeHelp('say "hi"\\\nbye'), 'say "hi"\\\\\\nbye');
});

Deno.test("METRICS_CONTENT_TYPE is text format 0.0.4", () => {
  assert.equal(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("Registry.render() sorts families by name, series by labels, labels by name", () => {
  const r = new Registry();
  const zeta = r.counter("zeta_total", "Z.", ["b", "a"]);
  const alpha = r.gauge("alpha", "A.", ["method"]);
  zeta.inc({ b: "2", a: "y" });
  zeta.inc({ a: "x", b: "9" }, 3);
  zeta.inc({ b: "1", a: "y" });
  alpha.set({ method: "POST" }, 2);
  alpha.set({ method: "GET" }, 1);
  const text = r.render();
  assertValidExposition(text);
  assert.equal(
    text,
    [
      "# HELP alpha A.",
      "# TYPE alpha gauge",
      'alpha{method="GET"} 1',
      'alpha{method="POST"} 2',
      "# HELP zeta_total Z.",
      "# TYPE zeta_total counter",
      'zeta_total{a="x",b="9"} 3',
      'zeta_total{a="y",b="1"} 1',
      'zeta_total{a="y",b="2"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("Registry.render() escapes label values and HELP text", () => {
  const r = new Registry();
  r.counter("odd_total", "Line one\nline two \\ end", ["name"]).inc({ name: 'a"b\\c\nd' });
  const text = r.render();
  assertValidExposition(text);
  assert.ok(text.includes("# HELP odd_total Line one\\nline two \\\\ end\n"));
  assert.ok(text.includes('odd_total{name="a\\"b\\\\c\\nd"} 1\n'));
});

Deno.test("Registry.render() omits families without series", () => {
  const r = new Registry();
  r.counter("unused_total", "Never touched.", ["x"]);
  r.histogram("unused_seconds", "Never touched.", ["x"], [1]);
  assert.equal(r.render(), "");
  r.gauge("used", "Touched.", []).set({}, 0);
  assert.equal(r.render(), "# HELP used Touched.\n# TYPE used gauge\nused 0\n");
});

Deno.test("Histogram.observe() renders cumulative buckets, +Inf, _sum and _count", () => {
  const r = new Registry();
  const h = r.histogram("lat_seconds", "Latency.", ["route"], [0.1, 1, 2.5]);
  for (const v of [0.05, 0.1, 0.5, 3, 100]) h.observe({ route: "/" }, v);
  const text = r.render();
  assertValidExposition(text);
  assert.equal(
    text,
    [
      "# HELP lat_seconds Latency.",
      "# TYPE lat_seconds histogram",
      'lat_seconds_bucket{route="/",le="0.1"} 2',
      'lat_seconds_bucket{route="/",le="1"} 3',
      'lat_seconds_bucket{route="/",le="2.5"} 3',
      'lat_seconds_bucket{route="/",le="+Inf"} 5',
      'lat_seconds_sum{route="/"} 103.65',
      'lat_seconds_count{route="/"} 5',
      "",
    ].join("\n"),
  );
});

Deno.test("Histogram without labels renders le as its only label", () => {
  const r = new Registry();
  r.histogram("plain_seconds", "P.", [], [1]).observe({}, 2);
  assert.ok(
    r.render().includes('plain_seconds_bucket{le="1"} 0\nplain_seconds_bucket{le="+Inf"} 1\n'),
  );
});

Deno.test("Registry.counter() returns the same family again and rejects conflicts", () => {
  const r = new Registry();
  const a = r.counter("hits_total", "Hits.", ["cache", "kind"]);
  assert.equal(r.counter("hits_total", "Hits.", ["kind", "cache"]), a);
  assert.throws(() => r.counter("hits_total", "Hits.", ["cache"]), TypeError);
  assert.throws(() => r.gauge("hits_total", "Hits.", ["cache", "kind"]), TypeError);
  r.histogram("h_seconds", "H.", [], [1, 2]);
  assert.throws(() => r.histogram("h_seconds", "H.", [], [1, 3]), TypeError);
});

Deno.test("Registry rejects invalid names, labels and buckets", () => {
  const r = new Registry();
  assert.throws(() => r.counter("bad-name", "x", []), TypeError);
  assert.throws(() => r.counter("ok_total", "x", ["bad-label"]), TypeError);
  assert.throws(() => r.counter("ok_total", "x", ["__reserved"]), TypeError);
  assert.throws(() => r.counter("ok_total", "x", ["a", "a"]), TypeError);
  assert.throws(() => r.histogram("ok_seconds", "x", ["le"], [1]), TypeError);
  assert.throws(() => r.histogram("ok_seconds", "x", [], [2, 1]), TypeError);
  assert.throws(() => r.histogram("ok_seconds", "x", [], [1, NaN]), TypeError);
});

Deno.test("Counter.inc() refuses to decrease", () => {
  const c = new Registry().counter("c_total", "C.", []);
  assert.throws(() => c.inc({}, -1), RangeError);
  assert.throws(() => c.inc({}, NaN), RangeError);
});

Deno.test("Gauge.inc()/dec() move the value both ways", () => {
  const r = new Registry();
  const g = r.gauge("g", "G.", ["k"]);
  g.inc({ k: "a" });
  g.inc({ k: "a" }, 4);
  g.dec({ k: "a" }, 2);
  g.dec({ k: "b" });
  assert.ok(r.render().endsWith('g{k="a"} 3\ng{k="b"} -1\n'));
});

Deno.test("Registry.onCollect() hooks run before every render", () => {
  const r = new Registry();
  const g = r.gauge("cache_entries", "Entries.", ["cache"]);
  let size = 1;
  r.onCollect(() => g.set({ cache: "jwks" }, size));
  assert.ok(r.render().includes('cache_entries{cache="jwks"} 1\n'));
  size = 7;
  assert.ok(r.render().includes('cache_entries{cache="jwks"} 7\n'));
});

Deno.test("CallbackFamily renders nothing when its value is unavailable", () => {
  const r = new Registry();
  let value: number | undefined = undefined;
  r.register(new CallbackFamily("x_seconds_total", "X.", "counter", () => value));
  assert.equal(r.render(), "");
  value = 1.5;
  assert.equal(
    r.render(),
    "# HELP x_seconds_total X.\n# TYPE x_seconds_total counter\nx_seconds_total 1.5\n",
  );
});

Deno.test("assertValidExposition() rejects malformed expositions", () => {
  const good = '# HELP a A.\n# TYPE a counter\na{x="1",y="2"} 1\n';
  assertValidExposition(good);
  for (
    const bad of [
      good.trimEnd(),
      "# HELP b B.\n# TYPE b gauge\nb 1\n# HELP a A.\n# TYPE a gauge\na 1\n",
      good.replace('x="1",y="2"', 'y="2",x="1"'),
      good.replace("} 1", "} one"),
      good.replace('"1"', '"a\nb"'),
      '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n',
    ]
  ) {
    assert.throws(() => assertValidExposition(bad), assert.AssertionError, JSON.stringify(bad));
  }
});
