/**
 * Keeps the mechanical parts of the documentation true:
 * - every test cited as proof in docs/compatibility.md and docs/security.md
 *   exists and has a Deno.test/systemTest/step of that name;
 * - every relative link in README.md and docs/*.md reaches an existing file,
 *   and every `#anchor` an existing heading (GitHub slug rules);
 * - the keys in docs/configuration.md's tables are exactly the keys of the
 *   JSON schema (lib/config/schema.ts), minus the listed exceptions, with the
 *   schema's required flags and defaults;
 * - every repository path the docs name exists; compatibility.md's totals
 *   match its rows; every version shown is VERSION; every built-in plugin
 *   option appears in that plugin's doc.
 */
import assert from "node:assert/strict";
import { configSchema } from "../../lib/config/schema.ts";

const ROOT = new URL("../../", import.meta.url);

/** A repository file's text. */
function read(path: string): string {
  return Deno.readTextFileSync(new URL(path, ROOT));
}

/** Whether a repository path exists. */
function exists(path: string): boolean {
  try {
    Deno.statSync(new URL(path, ROOT));
    return true;
  } catch {
    return false;
  }
}

/** README.md and every docs/*.md, as repository-relative paths. */
function docFiles(): string[] {
  const docs = [...Deno.readDirSync(new URL("docs/", ROOT))]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", ...docs];
}

// ---------------------------------------------------------------- test names

/** Decodes the body of a JS string literal (the common escapes only). */
function unescape(body: string): string {
  return body.replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c);
}

const STRING = String
  .raw`("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\`(?:[^\`\\]|\\.)*\`)`;
/**
 * Where a test or step name is written: `Deno.test(`, `systemTest(` and
 * other `…Test(` wrappers, `.step(`, `name:`, `const NAME =`, `const name =`.
 */
const NAME_SITE = new RegExp(
  String.raw`(?:Deno\.test\(|\b\w*Test\(|\.step\(|\bname:|\bconst (?:[A-Z_]*NAME|name)\s*=)\s*` +
    STRING,
  "g",
);

const testNameCache = new Map<string, string[]>();

/**
 * The test and step names declared in a test file. A template literal's
 * `${…}` parts become the wildcard `…`.
 */
function testNames(path: string): string[] {
  let names = testNameCache.get(path);
  if (names) return names;
  const source = read(path);
  names = [...source.matchAll(NAME_SITE)].map((m) => {
    const literal = m[1];
    const body = literal.slice(1, -1);
    return literal.startsWith("`") ? unescape(body.replace(/\$\{[^}]*\}/g, "…")) : unescape(body);
  });
  testNameCache.set(path, names);
  return names;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Whether `cited` names one of `names`. `…` in the citation (or in a
 * template-literal name) stands for any text; `whole` requires the entire
 * name, otherwise the citation may be a fragment of it.
 */
function citesName(cited: string, names: string[], whole: boolean): boolean {
  const pattern = cited.trim().split("…").map((part) =>
    escapeRegExp(part.trim()).replace(/ /g, "\\s+")
  ).join(".*");
  const regex = new RegExp(whole ? `^${pattern}$` : pattern, "s");
  return names.some((name) => {
    if (regex.test(name)) return true;
    // a name built from a template: its literal parts must all occur, in order
    if (!name.includes("…")) return false;
    const template = new RegExp(
      "^" + name.split("…").map(escapeRegExp).join(".*") + "$",
      "s",
    );
    return template.test(cited.trim());
  });
}

interface Citation {
  doc: string;
  line: number;
  file: string;
  name: string;
}

/**
 * docs/compatibility.md: `` `tests/x_test.ts` › exact test name ``, ending at
 * `<br>`, a table's `|`, or the end of the table row or paragraph (wrapped
 * prose is joined; a final full stop is not part of the name).
 */
function compatibilityCitations(): Citation[] {
  const doc = "docs/compatibility.md";
  const citations: Citation[] = [];
  const blocks: { line: number; text: string }[] = [];
  let paragraph: { line: number; text: string } | undefined;
  read(doc).split("\n").forEach((text, index) => {
    if (text.startsWith("|") || text.trim() === "") {
      paragraph = undefined;
      if (text.startsWith("|")) blocks.push({ line: index + 1, text });
    } else if (paragraph) paragraph.text += ` ${text.trim()}`;
    else blocks.push(paragraph = { line: index + 1, text });
  });
  for (const { line, text } of blocks) {
    const pattern = /`(tests\/[\w/.-]+_test\.ts)` › (.+?)(?=<br>|\s\||$)/g;
    for (const m of text.matchAll(pattern)) {
      const name = m[2].trim().replace(/\.$/, "");
      citations.push({ doc, line, file: m[1], name });
    }
  }
  return citations;
}

/**
 * docs/security.md: on a line naming a test file (a path, a bare
 * `x_test.ts`, or an alias defined as `` `alias` = tests/x_test.ts ``), each
 * `"quoted fragment"` belongs to the file named last before it; `…` is a
 * wildcard and the fragment may be part of the name.
 */
function securityCitations(): Citation[] {
  const doc = "docs/security.md";
  const text = read(doc);
  const aliases = new Map<string, string>();
  for (const m of text.matchAll(/`(\w+)` =\s+(tests\/[\w/.-]+_test\.ts)/g)) {
    aliases.set(m[1], m[2]);
  }
  const bare = new Map<string, string>();
  const fileRef = new RegExp(
    String.raw`(tests/[\w/.-]+_test\.ts)|\b([\w]+_test\.ts)|\b(` +
      [...aliases.keys()].join("|") + String.raw`)\b(?= ")|"([^"\n]*)"`,
    "g",
  );
  const citations: Citation[] = [];
  text.split("\n").forEach((raw, index) => {
    // a code span counts as its text, except one holding a quote (`""` in a list of hostile values)
    const line = raw.replace(/`[^`]*`/g, (span) => span.includes('"') ? "" : span.slice(1, -1));
    let current: string | undefined;
    for (const m of line.matchAll(fileRef)) {
      if (m[1]) current = m[1];
      else if (m[2]) {
        current = bare.get(m[2]) ?? findTestFile(m[2]);
        bare.set(m[2], current);
      } else if (m[3]) current = aliases.get(m[3]);
      else if (m[4] !== undefined && current) {
        citations.push({ doc, line: index + 1, file: current, name: m[4] });
      }
    }
  });
  return citations;
}

/** The tests/ path of a bare test file name (`timing_test.ts`), or the name itself when none or several match. */
function findTestFile(name: string): string {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) walk(`${path}/`);
      else if (entry.name === name) found.push(path);
    }
  };
  walk("tests/");
  return found.length === 1 ? found[0] : name;
}

/** Every file path `tests/…_test.ts` written anywhere in a doc. */
function citedFiles(doc: string): { line: number; file: string }[] {
  const found: { line: number; file: string }[] = [];
  read(doc).split("\n").forEach((text, index) => {
    for (const m of text.matchAll(/\btests\/[\w/.-]+_test\.ts\b/g)) {
      found.push({ line: index + 1, file: m[0] });
    }
  });
  return found;
}

/** The problems with a list of citations: missing files and names no test has. */
function brokenCitations(
  citations: Citation[],
  whole: boolean,
): string[] {
  const problems: string[] = [];
  for (const c of citations) {
    const where = `${c.doc}:${c.line}`;
    if (!exists(c.file)) {
      problems.push(`${where}: ${c.file} does not exist`);
    } else if (!citesName(c.name, testNames(c.file), whole)) {
      problems.push(`${where}: ${c.file} has no test named "${c.name}"`);
    }
  }
  return problems;
}

Deno.test("docs: every test cited in compatibility.md and security.md exists with that name", () => {
  const compat = compatibilityCitations();
  const security = securityCitations();
  // the parsers must keep finding the citations, or this test proves nothing
  assert.ok(compat.length > 100, `only ${compat.length} citations in compatibility.md`);
  assert.ok(security.length > 50, `only ${security.length} citations in security.md`);
  const problems = [
    ...brokenCitations(compat, true),
    ...brokenCitations(security, false),
  ];
  for (const doc of ["docs/compatibility.md", "docs/security.md"]) {
    for (const { line, file } of citedFiles(doc)) {
      if (!exists(file)) problems.push(`${doc}:${line}: ${file} does not exist`);
    }
  }
  Deno.stdout.writeSync(
    new TextEncoder().encode(
      `checked ${compat.length} named citations in compatibility.md, ` +
        `${security.length} in security.md\n`,
    ),
  );
  assert.deepEqual(problems, []);
});

Deno.test("docs: a renamed test breaks its citation", () => {
  const file = "tests/http/routes_test.ts";
  const name = testNames(file)[0];
  const cite = (cited: string) => brokenCitations([{ doc: "x", line: 1, file, name: cited }], true);
  assert.deepEqual(cite(name), []);
  assert.equal(cite(`${name} (renamed)`).length, 1);
  assert.equal(
    brokenCitations([{ doc: "x", line: 1, file: "tests/http/gone_test.ts", name }], true).length,
    1,
  );
  // a fragment with a wildcard matches; a wrong fragment does not
  assert.ok(citesName(`${name.slice(0, 8)}…`, [name], false));
  assert.ok(!citesName("no test is called this…", [name], false));
});

// -------------------------------------------------------------------- links

/** GitHub's heading anchor: lower case, punctuation dropped, spaces → hyphens. */
function githubSlug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a markdown file's headings (duplicates get -1, -2, … as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of withoutFences(markdown).split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = githubSlug(m[1]);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** Blanks fenced code blocks, keeping line numbers. */
function withoutFences(markdown: string): string {
  let fenced = false;
  return markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line;
  }).join("\n");
}

/** Blanks fenced code blocks and inline code, keeping line numbers. */
function withoutCode(markdown: string): string {
  return withoutFences(markdown).split("\n").map((line) => line.replace(/`[^`]*`/g, "")).join(
    "\n",
  );
}

function brokenLinks(doc: string): string[] {
  const problems: string[] = [];
  const text = withoutCode(read(doc));
  const dir = doc.includes("/") ? doc.slice(0, doc.lastIndexOf("/") + 1) : "";
  text.split("\n").forEach((line, index) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\[[^\]]+\]:\s+(\S+)/g)) {
      const target = m[1] ?? m[2];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      const [path, anchor] = target.split("#", 2) as [string, string | undefined];
      const file = path === "" ? doc : new URL(path, new URL(dir, ROOT)).pathname
        .slice(ROOT.pathname.length);
      const where = `${doc}:${index + 1}`;
      if (!exists(file)) {
        problems.push(`${where}: ${target}: ${file} does not exist`);
        continue;
      }
      if (anchor !== undefined && file.endsWith(".md")) {
        if (!anchors(read(file)).has(decodeURIComponent(anchor))) {
          problems.push(`${where}: ${target}: no heading #${anchor} in ${file}`);
        }
      }
    }
  });
  return problems;
}

Deno.test("docs: every relative link in README.md and docs/*.md reaches a file and heading", () => {
  const problems = docFiles().flatMap(brokenLinks);
  assert.deepEqual(problems, []);
});

Deno.test("docs: githubSlug() follows GitHub's anchor rules", () => {
  assert.equal(githubSlug("Top-level keys (version 2.0.0)"), "top-level-keys-version-200");
  assert.equal(githubSlug("`/explain` on the metrics port"), "explain-on-the-metrics-port");
  assert.equal(
    githubSlug("What differs from auth-o-tron (on purpose)"),
    "what-differs-from-auth-o-tron-on-purpose",
  );
  assert.deepEqual([...anchors("# A\n## A\n```\n# B\n```\n")], ["a", "a-1"]);
});

// -------------------------------------------------------------- config keys

type Schema = Record<string, unknown>;

interface SchemaKey {
  /** Required by the object that holds it. */
  required: boolean;
  /** The schema's `default`, when it has one. */
  default?: unknown;
}

/** Every key path of the schema's version 2 format: `jwt.iss`, `jwt.keys[].kid`, `providers[].name`. */
function schemaKeys(): Map<string, SchemaKey> {
  const root = configSchema() as Schema;
  const defs = root.$defs as Record<string, Schema>;
  const resolve = (node: Schema): Schema =>
    typeof node.$ref === "string" ? resolve(defs[node.$ref.split("/").pop()!]) : node;
  const keys = new Map<string, SchemaKey>();
  const walk = (node: Schema, prefix: string) => {
    node = resolve(node);
    const items = node.items as Schema | undefined;
    if (items) {
      const item = resolve(items);
      if (item.properties) walk(item, `${prefix}[]`);
    }
    const props = node.properties as Record<string, Schema> | undefined;
    const required = (node.required as string[] | undefined) ?? [];
    for (const [key, value] of Object.entries(props ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      keys.set(path, { required: required.includes(key), default: resolve(value).default });
      walk(value, path);
    }
  };
  walk(defs.ConfigV2, "");
  return keys;
}

interface DocumentedKey {
  key: string;
  /** The "required" column: `yes`, `no` or a condition. */
  required: string;
  /** The "default" column. */
  default: string;
}

/** The rows of docs/configuration.md's key tables (one entry per backticked key of the first column). */
function documentedRows(): DocumentedKey[] {
  const rows: DocumentedKey[] = [];
  let inKeyTable = false;
  for (const line of read("docs/configuration.md").split("\n")) {
    if (!line.startsWith("|")) {
      inKeyTable = false;
      continue;
    }
    const [, first, required = "", defaultValue = ""] = line.split(/(?<!\\)\|/).map((cell) =>
      cell.trim()
    );
    if (/^key\b/.test(first)) {
      inKeyTable = true;
      continue;
    }
    if (!inKeyTable) continue;
    for (const m of first.matchAll(/`([\w.[\]]+)`/g)) {
      rows.push({ key: m[1], required, default: defaultValue });
    }
  }
  return rows;
}

/** The backticked key paths in the first column of docs/configuration.md's key tables. */
function documentedKeys(): Set<string> {
  return new Set(documentedRows().map((row) => row.key));
}

/** Schema keys deliberately not in a configuration.md key table, each with the reason. */
const UNDOCUMENTED_SCHEMA_KEYS: Record<string, string> = {
  server: "a section: its keys are rows",
  metrics: "a section: its keys are rows",
  auth: "a section: its keys are rows",
  shutdown: "a section: its keys are rows",
  "auth.brute_force": "a section: its keys are rows",
  jwt: "a section: its keys are rows",
  logging: "a section: its keys are rows",
};

Deno.test("docs: configuration.md's key tables and the JSON schema name the same keys", () => {
  const schema = schemaKeys();
  const documented = documentedKeys();
  assert.ok(documented.size > 20, `only ${documented.size} keys found in the tables`);
  const undocumented = [...schema.keys()].filter((key) =>
    !documented.has(key) && !(key in UNDOCUMENTED_SCHEMA_KEYS)
  );
  const unknown = [...documented].filter((key) => !schema.has(key));
  const staleExceptions = Object.keys(UNDOCUMENTED_SCHEMA_KEYS).filter((key) =>
    !schema.has(key) || documented.has(key)
  );
  assert.deepEqual({ undocumented, unknown, staleExceptions }, {
    undocumented: [],
    unknown: [],
    staleExceptions: [],
  });
});

// -------------------------------------------------------------- file paths

/** Repository paths the docs may name without them existing, each with the reason. */
const PATHS_NOT_IN_THIS_REPOSITORY: Record<string, string> = {
  "bench/results": "written by `deno task bench --json`, git-ignored",
  "examples/nginx-auth": "the original auth-o-tron's example directory",
  "examples/nginx-auth/config/auth-o-tron.yml": "the original auth-o-tron's example file",
  "tests/offline_integration.rs": "the original auth-o-tron's test file",
};

const REPOSITORY_PATH =
  /(?<![\w./-])(?:lib|packages|providers|augmenters|tests|tools|deploy|examples|bench|assets)\/[\w./-]*[\w]/g;

Deno.test("docs: every repository path named in README.md and docs/*.md exists", () => {
  const problems: string[] = [];
  let checked = 0;
  for (const doc of docFiles()) {
    read(doc).split("\n").forEach((line, index) => {
      for (const [path] of line.matchAll(REPOSITORY_PATH)) {
        checked++;
        if (!exists(path) && !(path in PATHS_NOT_IN_THIS_REPOSITORY)) {
          problems.push(`${doc}:${index + 1}: ${path} does not exist`);
        }
      }
    });
  }
  assert.ok(checked > 100, `only ${checked} paths found`);
  assert.deepEqual(problems, []);
});

// ------------------------------------------------------ compatibility totals

Deno.test("docs: compatibility.md's totals match its rows", () => {
  const text = read("docs/compatibility.md");
  const counted = new Map<string, number>();
  for (const m of text.matchAll(/^\| (\d+)\s*★?\s*\|[^|]*\|[^|]*\| (same|fixed|changed)\s*\|/gm)) {
    const key = `${Number(m[1]) <= 150 ? "checklist" : "beyond"} ${m[2]}`;
    counted.set(key, (counted.get(key) ?? 0) + 1);
  }
  const totals =
    /Totals for rows 1-150: (\d+) same, (\d+) fixed, (\d+) changed; rows 151-(\d+)[^)]*\) add (\d+) same and (\d+) changed/
      .exec(text.replace(/\s+/g, " "));
  assert.ok(totals, "the totals sentence is missing or reworded");
  const [, same, fixed, changed, last, beyondSame, beyondChanged] = totals.map(Number);
  const rows = [...text.matchAll(/^\| (\d+)\s*★?\s*\|/gm)].map((m) => Number(m[1]));
  assert.deepEqual(
    {
      same: counted.get("checklist same") ?? 0,
      fixed: counted.get("checklist fixed") ?? 0,
      changed: counted.get("checklist changed") ?? 0,
      last: Math.max(...rows),
      beyondSame: counted.get("beyond same") ?? 0,
      beyondChanged: counted.get("beyond changed") ?? 0,
      beyondFixed: counted.get("beyond fixed") ?? 0,
    },
    { same, fixed, changed, last, beyondSame, beyondChanged, beyondFixed: 0 },
  );
  // every row number once, none missing
  assert.deepEqual(rows, Array.from({ length: last }, (_, i) => i + 1));
});

// ------------------------------------------------------------------ version

Deno.test("docs: every version of this gateway the docs show is VERSION", async () => {
  const { VERSION } = await import("../../lib/config/types.ts");
  const shown =
    /(?:\bauthotron[ :-]|"(?:service\.)?version": "|@authotron\/\w+@\^?|newTag: ")(\d+\.\d+\.\d+)/g;
  const problems: string[] = [];
  let checked = 0;
  for (const doc of docFiles()) {
    read(doc).split("\n").forEach((line, index) => {
      for (const m of line.matchAll(shown)) {
        checked++;
        if (m[1] !== VERSION) problems.push(`${doc}:${index + 1}: ${m[0]} (VERSION is ${VERSION})`);
      }
    });
  }
  assert.ok(checked >= 5, `only ${checked} versions found`);
  assert.deepEqual(problems, []);
});

Deno.test("docs: configuration.md's required and default columns agree with the JSON schema", () => {
  const schema = schemaKeys();
  const problems: string[] = [];
  let checked = 0;
  for (const row of documentedRows()) {
    const known = schema.get(row.key);
    if (!known) continue; // reported by the test above
    if (row.required === "yes" || row.required === "no") {
      checked++;
      if ((row.required === "yes") !== known.required) {
        problems.push(`${row.key}: required "${row.required}", schema says ${known.required}`);
      }
    }
    const literal = /^`([^`]*)`$/.exec(row.default);
    if (literal && known.default !== undefined && typeof known.default !== "object") {
      checked++;
      if (literal[1] !== String(known.default)) {
        problems.push(`${row.key}: default ${row.default}, schema says ${known.default}`);
      }
    }
  }
  assert.ok(checked > 30, `only ${checked} cells checked`);
  assert.deepEqual(problems, []);
});

// ------------------------------------------------------ built-in plugin options

Deno.test("docs: every option of a built-in plugin is documented", async () => {
  // where each plugin's options are documented
  const docsOf = (dir: string, file: string) =>
    (dir === "providers"
      ? ["docs/providers.md", "docs/configuration.md"]
      : file === "ldap.ts"
      ? ["docs/ldap.md"]
      : ["docs/configuration.md"]).map(read).join("\n");
  const problems: string[] = [];
  let checked = 0;
  for (const dir of ["providers", "augmenters"]) {
    for (const entry of Deno.readDirSync(new URL(`${dir}/`, ROOT))) {
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      const module = await import(new URL(`${dir}/${entry.name}`, ROOT).href);
      const keys: readonly string[] = module.default?.optionKeys ?? [];
      const docs = docsOf(dir, entry.name);
      for (const key of keys) {
        checked++;
        // as code (`key`, `key: …`) or as a YAML key in an example
        const documented = new RegExp(
          String.raw`\`${escapeRegExp(key)}[\`:= ]|^\s*(?:- )?${escapeRegExp(key)}:`,
          "m",
        );
        if (!documented.test(docs)) {
          problems.push(`${dir}/${entry.name}: option ${key} is in no doc`);
        }
      }
    }
  }
  assert.ok(checked > 20, `only ${checked} options found`);
  assert.deepEqual(problems, []);
});
