/**
 * deploy/kubernetes: `kubectl kustomize` renders it (the real kubectl), and
 * what it renders agrees with the code. The probes, ports, mounts, env and
 * image are checked against the Dockerfile and the generated config, then the
 * rendered Deployment is run the way a kubelet would run it (no cluster is
 * used): two replicas of the image's CMD with the ConfigMap mounted at the
 * Deployment's path and the Secret example's values in the environment,
 * against a real PostgreSQL; each probe is sent to the port it names.
 */
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { VERSION } from "../../lib/config/types.ts";
import { exposedPorts, imageCmd, imageEnv, ROOT } from "../support/dockerfile.ts";
import { startPostgres } from "../support/postgres.ts";
import { freePort, removeDir, run, systemTest, tempDir } from "../support/system.ts";
import {
  ALICE,
  assertTokenWorksAcrossReplicas,
  at,
  DEPLOY,
  type Doc,
  type Replica,
  status,
  TEST_PROVIDERS,
  withReplicas,
} from "./helpers.ts";

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef: { name: string; key: string } };
  }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  lifecycle: { preStop: { sleep?: { seconds: number } } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

/** The rendered manifests by kind. */
async function render(): Promise<Map<string, Doc>> {
  const out = await run("kubectl", ["kustomize", `${DEPLOY}/kubernetes`]);
  const byKind = new Map<string, Doc>();
  for (const doc of parseAllDocuments(out)) {
    const resource = doc.toJS() as Doc;
    const kind = String(resource.kind);
    assert.ok(!byKind.has(kind), `one ${kind}`);
    byKind.set(kind, resource);
  }
  return byKind;
}

function container(deployment: Doc): Container {
  const containers = at<Container[]>(deployment, "spec.template.spec.containers");
  assert.equal(containers.length, 1);
  return containers[0]!;
}

function configOf(configMap: Doc): Doc {
  return parse(at<Record<string, string>>(configMap, "data")["config.yaml"]!) as Doc;
}

/** The Secret example's values by `name/key`. */
async function exampleSecrets(): Promise<Map<string, string>> {
  const text = await Deno.readTextFile(`${DEPLOY}/kubernetes/secret.example.yaml`);
  const values = new Map<string, string>();
  for (const doc of parseAllDocuments(text)) {
    const secret = doc.toJS() as Doc;
    assert.equal(secret.kind, "Secret");
    for (const [key, value] of Object.entries(at<Record<string, string>>(secret, "stringData"))) {
      values.set(`${at(secret, "metadata.name")}/${key}`, value);
    }
  }
  return values;
}

function portNamed(c: Container, name: string): number {
  const port = c.ports.find((p) => p.name === name);
  assert.ok(port, `container port ${name}`);
  return port.containerPort;
}

systemTest(
  "kubectl kustomize deploy/kubernetes: 2 hardened replicas whose probes, ports, mounts and env match the code",
  ["kubectl"],
  async () => {
    const kinds = await render();
    assert.deepEqual(
      [...kinds.keys()].sort(),
      ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service"],
    );
    const deployment = kinds.get("Deployment")!;
    const c = container(deployment);
    const config = configOf(kinds.get("ConfigMap")!);
    const podLabels = at<Record<string, string>>(deployment, "spec.template.metadata.labels");

    assert.equal(at(deployment, "spec.replicas"), 2);
    assert.equal(c.image.split(":").at(-1), VERSION, "the image tag is the gateway's version");
    assert.equal(c.command, undefined, "the image's ENTRYPOINT (tini) is kept");
    assert.equal(c.args, undefined, "the image's CMD, with its narrow --allow-* flags, is kept");

    // Ports: the config's listeners, which the Dockerfile exposes.
    assert.equal(portNamed(c, "http"), at(config, "server.port"));
    assert.equal(portNamed(c, "metrics"), at(config, "metrics.port"));
    assert.equal(at(config, "metrics.enabled"), true);
    assert.equal(at(config, "server.host"), "0.0.0.0", "reachable from the kubelet and Service");
    assert.deepEqual(c.ports.map((p) => p.containerPort).sort(), exposedPorts().sort());

    // Probes: liveness on /health, readiness on /ready, both on the app listener.
    assert.deepEqual(c.livenessProbe.httpGet, { path: "/health", port: "http" });
    assert.deepEqual(c.readinessProbe.httpGet, { path: "/ready", port: "http" });
    assert.ok((c.lifecycle.preStop.sleep?.seconds ?? 0) >= 3, "preStop pause");
    const grace = at<number>(deployment, "spec.template.spec.terminationGracePeriodSeconds");
    const authTimeouts = 2 * at<number>(config, "auth.timeout_in_ms") / 1000;
    assert.ok(
      grace > c.lifecycle.preStop.sleep!.seconds + authTimeouts,
      "the grace period covers preStop and one request's provider + augmenter timeouts",
    );

    // Hardening.
    const pod = at<Doc>(deployment, "spec.template.spec.securityContext");
    assert.equal(pod.runAsNonRoot, true);
    assert.notEqual(pod.runAsUser, 0);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(at(c.securityContext, "capabilities.drop"), ["ALL"]);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);

    // Mounts: the ConfigMap holds the file AOT_CONFIG_PATH names; everything mounted is readable
    // under the CMD's --allow-read and nothing is writable.
    const env = new Map(c.env.map((e) => [e.name, e]));
    const configPath = env.get("AOT_CONFIG_PATH")?.value ?? imageEnv().AOT_CONFIG_PATH!;
    const volumes = at<Doc[]>(deployment, "spec.template.spec.volumes");
    const configMount = c.volumeMounts.find((m) => configPath.startsWith(`${m.mountPath}/`));
    assert.ok(configMount, `a volume holds ${configPath}`);
    const configVolume = volumes.find((v) => v.name === configMount.name)!;
    assert.equal(at(configVolume, "configMap.name"), at(kinds.get("ConfigMap")!, "metadata.name"));
    assert.ok(
      configPath.endsWith(`/${Object.keys(at<Doc>(kinds.get("ConfigMap")!, "data"))[0]}`),
      configPath,
    );
    const allowRead = imageCmd().find((a) => a.startsWith("--allow-read="))!.split("=")[1]!;
    for (const mount of c.volumeMounts) {
      assert.equal(mount.readOnly, true, mount.mountPath);
      assert.ok(
        allowRead.split(",").some((dir) => mount.mountPath.startsWith(`${dir}/`)),
        `${mount.mountPath} is readable under --allow-read=${allowRead}`,
      );
    }

    // Secrets: every secretKeyRef names a key of the Secret example; nothing secret is in config.
    const secrets = await exampleSecrets();
    for (const e of c.env) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        assert.ok(secrets.has(`${ref.name}/${ref.key}`), `${e.name}: ${ref.name}/${ref.key}`);
      }
    }
    assert.equal(at(config, "jwt.secret"), undefined);
    assert.equal(at(config, "store.uri"), undefined);
    assert.ok(env.has("AOT_JWT__SECRET") && env.has("AOT_STORE__URI"));
    assert.equal(at(config, "store.type"), "postgres", "replicas share one token store");

    // Service and PodDisruptionBudget select the pods; the budget lets a drain proceed.
    const service = kinds.get("Service")!;
    assert.deepEqual(at(service, "spec.selector"), podLabels);
    for (const port of at<{ name: string; targetPort: string }[]>(service, "spec.ports")) {
      portNamed(c, port.targetPort);
    }
    const pdb = kinds.get("PodDisruptionBudget")!;
    assert.deepEqual(at(pdb, "spec.selector.matchLabels"), podLabels);
    assert.ok(at<number>(pdb, "spec.minAvailable") < at<number>(deployment, "spec.replicas"));
  },
);

systemTest(
  "the rendered Deployment, run as its container: probes answer on their ports, replicas share tokens",
  ["kubectl", "initdb", "postgres"],
  async () => {
    const kinds = await render();
    const deployment = kinds.get("Deployment")!;
    const c = container(deployment);
    const secrets = await exampleSecrets();
    await using pg = await startPostgres();
    const etc = await tempDir("k8s");
    try {
      // The ConfigMap's files where the Deployment mounts them (/etc/authotron → etc).
      const configMount = c.volumeMounts.find((m) => m.name === "config")!;
      const mounted = configMount.mountPath.replace("/etc/authotron", etc);
      await Deno.mkdir(mounted, { recursive: true });
      for (
        const [file, text] of Object.entries(
          at<Record<string, string>>(kinds.get("ConfigMap")!, "data"),
        )
      ) {
        await Deno.writeTextFile(`${mounted}/${file}`, text);
      }
      const containerEnv: Record<string, string> = {};
      for (const e of c.env) {
        const ref = e.valueFrom?.secretKeyRef;
        containerEnv[e.name] = ref ? secrets.get(`${ref.name}/${ref.key}`)! : e.value!;
      }
      // The example's placeholder database is this test's PostgreSQL.
      containerEnv.AOT_STORE__URI = pg.uri;
      const replicas: Replica[] = [0, 1].map(() => {
        const port = freePort();
        return {
          port,
          env: {
            ...containerEnv,
            // Loopback and free ports instead of 0.0.0.0:8080/9090: pods have their own network.
            AOT_SERVER__HOST: "127.0.0.1",
            AOT_SERVER__PORT: String(port),
            AOT_METRICS__PORT: String(freePort()),
            AOT_PROVIDERS: TEST_PROVIDERS,
          },
        };
      });
      await withReplicas(etc, replicas, async () => {
        for (const replica of replicas) {
          // Every probe on the port it names (`http` is the app listener, server.port).
          for (const probe of [c.livenessProbe, c.readinessProbe]) {
            assert.equal(probe.httpGet.port, "http");
            const url = `http://127.0.0.1:${replica.port}${probe.httpGet.path}`;
            assert.equal(await status(url), 200, url);
          }
          const metrics = `http://127.0.0.1:${replica.env.AOT_METRICS__PORT}/metrics`;
          assert.equal(await status(metrics), 200, "the annotated scrape target answers");
          const base = `http://127.0.0.1:${replica.port}/authenticate`;
          assert.equal(await status(base), 401);
          assert.equal(await status(base, { headers: { authorization: ALICE } }), 200);
        }
        await assertTokenWorksAcrossReplicas(replicas[0]!.port, replicas[1]!.port);
      });
      const annotations = at<Record<string, string>>(
        deployment,
        "spec.template.metadata.annotations",
      );
      assert.equal(Number(annotations["prometheus.io/port"]), portNamed(c, "metrics"));
    } finally {
      await removeDir(etc);
    }
  },
);

Deno.test("deploy/kubernetes: the kustomization lists every manifest, and the Secret example stays out", async () => {
  const kustomization = parse(
    await Deno.readTextFile(`${ROOT}/deploy/kubernetes/kustomization.yaml`),
  ) as Doc;
  const listed = [
    ...at<string[]>(kustomization, "resources"),
    ...at<{ files: string[] }[]>(kustomization, "configMapGenerator").flatMap((g) => g.files),
  ].sort();
  const files = [...Deno.readDirSync(`${DEPLOY}/kubernetes`)].map((e) => e.name)
    .filter((name) => name !== "kustomization.yaml" && name !== "secret.example.yaml").sort();
  assert.deepEqual(listed, files);
  const tag = at<{ newTag: string }[]>(kustomization, "images")[0]!.newTag;
  assert.equal(tag, VERSION);
});
