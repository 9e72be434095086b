// deploy/kubernetes/*.yaml and deploy/ecs/*.json as docs/deploy-eks.md promises them: they parse
// and are valid requests to their APIs (api-check.ts; a broken copy of each is caught), the image
// and user match what build-image.mjs makes, every ELB_PROXY_ECHO_* variable is a real option
// with a valid value, the container is locked down, the probes ask the metrics port the variables
// open, the grace period is the server's drain delay and drain timeout and a margin, the Service
// asks the AWS Load Balancer Controller for an NLB with IP targets and PROXY protocol v2, and the
// Job's arguments are valid bench options.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import pkg from '../../package.json' with { type: 'json' };
import { stopBudgetSec } from '../../src/install/stop-timeout.ts';
import { benchOptions } from '../../src/loadgen/options.ts';
import { envName, parseOptions } from '../../src/options.ts';
import { toConfig } from '../../src/serve-config.ts';
import { serveOptions } from '../../src/serve-options.ts';
import { ECS, kubernetesType, schemaErrors, type Typed, typeErrors } from './api-check.ts';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const IMAGE = `REGISTRY/elb-proxy-echo:${pkg.version}`;
const USER = 10001;
const ECHO_PORT = 5000;
/** The longest stopTimeout Fargate takes (the task definition asks for FARGATE and EC2). */
const FARGATE_MAX_STOP_TIMEOUT_S = 120;

// Shapes of the few fields read here (the files carry more).
interface EnvVar {
  name: string;
  value: string;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number; protocol: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
  containers: Container[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: each kind has its own spec; read per test
  spec: any;
}

/** The one document of a YAML file; a parse error or warning fails the test. */
function yamlFile(name: string): Manifest {
  const docs = parseAllDocuments(readFileSync(`${DEPLOY}kubernetes/${name}`, 'utf8'));
  assert.ok(Array.isArray(docs), `${name}: YAML documents`);
  assert.is(docs.length, 1, `${name}: one document`);
  const [doc] = docs;
  assert.equal([...doc.errors, ...doc.warnings].map(String), [], `${name} parses cleanly`);
  return doc.toJS() as Manifest;
}

function jsonFile(name: string) {
  return JSON.parse(readFileSync(`${DEPLOY}ecs/${name}`, 'utf8'));
}

/** The server's configuration from the variables alone: throws on an unknown name or bad value. */
function serverConfig(env: readonly EnvVar[]) {
  const values = Object.fromEntries(env.map(({ name, value }) => [name, value]));
  const known = new Set(Object.values(serveOptions).map((o) => envName(o.flag)));
  for (const name of Object.keys(values))
    assert.ok(known.has(name), `${name} is an option's variable (elb-proxy-echo --help)`);
  return toConfig(parseOptions(serveOptions, [], values).values, 1);
}

function trustOf(env: readonly EnvVar[]): string | undefined {
  return env.find(({ name }) => name === envName('trust'))?.value;
}

function lockedDown(container: Container): void {
  assert.is(container.image, IMAGE);
  assert.equal(container.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
  });
  assert.ok(container.resources?.requests?.cpu, 'a CPU request');
  assert.ok(container.resources?.limits?.memory, 'a memory limit');
}

function nonRootPod(pod: PodSpec): void {
  assert.is(pod.securityContext?.runAsNonRoot, true);
  assert.is(pod.securityContext?.runAsUser, USER);
  assert.is(pod.securityContext?.runAsGroup, USER);
}

const deployment = yamlFile('deployment.yaml');
const pod: PodSpec = deployment.spec.template.spec;
const server = pod.containers[0];

test('Deployment: one locked-down container from the image, as user 10001', () => {
  assert.is(deployment.apiVersion, 'apps/v1');
  assert.is(deployment.kind, 'Deployment');
  assert.is(pod.containers.length, 1);
  nonRootPod(pod);
  lockedDown(server);
  assert.is(server.args, undefined, 'the image entrypoint serves; options come from env');
});

test('Deployment: its variables are valid options; trust is a CIDR list and the greeting is on', () => {
  const config = serverConfig(server.env ?? []);
  assert.ok(trustOf(server.env ?? []), '--trust is set (a bad range would have thrown above)');
  assert.is(config.echo.greeting, true);
});

test('Deployment: the echo port is 5000; readiness asks /healthz, liveness /metrics, on the pod address', () => {
  const config = serverConfig(server.env ?? []);
  const ports = Object.fromEntries((server.ports ?? []).map((p) => [p.name, p.containerPort]));
  assert.equal(ports, { echo: ECHO_PORT, metrics: config.metricsPort });
  assert.is(config.metricsHost, '0.0.0.0', 'the kubelet reaches the pod address, not loopback');
  // Readiness follows the health switch and the drain delay; liveness must not, or a pod
  // switched to failing by hand would be restarted.
  assert.equal(server.readinessProbe?.httpGet, { path: '/healthz', port: 'metrics' });
  assert.equal(server.livenessProbe?.httpGet, { path: '/metrics', port: 'metrics' });
});

test('Deployment: on SIGTERM the server itself serves on, then drains, within the grace period', () => {
  const config = serverConfig(server.env ?? []);
  assert.ok(config.drainDelayMs > 0, 'a drain delay while the NLB stops sending new clients');
  assert.is(server.lifecycle, undefined, 'no preStop hook: the drain delay is the pause');
  assert.is(pod.terminationGracePeriodSeconds, stopBudgetSec(config), 'delay + drain + margin');
  assert.equal(deployment.spec.strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
});

test('Service: an NLB with IP targets and PROXY protocol v2, TCP health checks on the echo port', () => {
  const service = yamlFile('service.yaml');
  assert.is(service.kind, 'Service');
  assert.is(service.spec.type, 'LoadBalancer');
  const prefix = 'service.beta.kubernetes.io/aws-load-balancer-';
  const annotations = service.metadata.annotations ?? {};
  assert.is(annotations[`${prefix}type`], 'external');
  assert.is(annotations[`${prefix}nlb-target-type`], 'ip');
  assert.is(annotations[`${prefix}scheme`], 'internet-facing');
  assert.is(annotations[`${prefix}proxy-protocol`], '*');
  assert.is(annotations[`${prefix}healthcheck-protocol`], 'tcp');
  assert.is(annotations[`${prefix}healthcheck-port`], 'traffic-port');
  for (const value of Object.values(annotations)) assert.type(value, 'string');
  assert.equal(service.spec.selector, deployment.spec.template.metadata.labels);
  assert.equal(service.spec.ports, [
    { name: 'echo', port: ECHO_PORT, targetPort: 'echo', protocol: 'TCP' },
  ]);
});

test('Job: Indexed, N generators whose arguments are valid bench options with one --start-at', () => {
  const job = yamlFile('bench-job.yaml');
  assert.is(job.kind, 'Job');
  assert.is(job.spec.completionMode, 'Indexed');
  assert.is(job.spec.parallelism, job.spec.completions);
  const jobPod: PodSpec = job.spec.template.spec;
  nonRootPod(jobPod);
  const [generator] = jobPod.containers;
  lockedDown(generator);
  const [command, ...args] = generator.args ?? [];
  assert.is(command, 'bench');
  // The placeholders as the doc's sed fills them; the index as Kubernetes expands it.
  const filled = args.map((arg) =>
    arg
      .replace('LB_HOSTNAME', 'k8s-default-elbproxy-0123456789.elb.us-east-1.amazonaws.com')
      .replace('START_AT', '2030-01-01T00:00:00Z')
      .replace('$(JOB_COMPLETION_INDEX)', '3'),
  );
  const { values, positionals } = parseOptions(benchOptions, filled);
  assert.equal(positionals, []);
  assert.is(values.target?.port, ECHO_PORT);
  assert.is(values.startAt, Date.parse('2030-01-01T00:00:00Z'));
  assert.is(values.label, 'gen-3');
  assert.is(values.json, true);
  assert.is(values.quiet, true, 'nothing but the JSON in the pod log');
});

test('ECS task definition: awsvpc, user 10001, read-only, no capabilities, port 5000, stop timeout the drain delay and timeout', () => {
  const task = jsonFile('task-definition.json');
  assert.is(task.networkMode, 'awsvpc');
  assert.equal(task.containerDefinitions.length, 1);
  const [c] = task.containerDefinitions;
  assert.is(c.image, IMAGE);
  assert.is(c.user, `${USER}:${USER}`);
  assert.is(c.readonlyRootFilesystem, true);
  assert.equal(c.linuxParameters.capabilities.drop, ['ALL']);
  assert.equal(c.portMappings, [{ name: 'echo', containerPort: ECHO_PORT, protocol: 'tcp' }]);
  const config = serverConfig(c.environment);
  assert.ok(trustOf(c.environment), '--trust is set (a bad range would have thrown above)');
  assert.ok(config.drainDelayMs > 0, 'a drain delay while the NLB stops sending new clients');
  assert.is(c.stopTimeout, stopBudgetSec(config), 'delay + drain + margin before SIGKILL');
  assert.ok(c.stopTimeout <= FARGATE_MAX_STOP_TIMEOUT_S, 'within what Fargate allows');
});

test('ECS service: the task behind an NLB target group on the container port', () => {
  const service = jsonFile('service.json');
  const task = jsonFile('task-definition.json');
  assert.is(service.taskDefinition, task.family);
  assert.equal(service.loadBalancers, [
    {
      targetGroupArn: 'TARGET_GROUP_ARN',
      containerName: task.containerDefinitions[0].name,
      containerPort: ECHO_PORT,
    },
  ]);
  assert.is(service.deploymentConfiguration.minimumHealthyPercent, 100);
});

// Every file against its API, and copies broken one way each, all type-checked in one tsc run.
const KUBERNETES_FILES = readdirSync(`${DEPLOY}kubernetes`)
  .filter((name) => name.endsWith('.yaml'))
  .sort();
const ECS_FILES = {
  'task-definition.json': ECS.registerTaskDefinition,
  'service.json': ECS.createService,
};

interface Broken {
  readonly what: string;
  readonly file: string;
  // biome-ignore lint/suspicious/noExplicitAny: a copy of any file, broken by hand
  readonly breakCopy: (copy: any) => void;
  /** What the schema says (Kubernetes only); null: the schema lets it through. */
  readonly schema?: RegExp | null;
  readonly types: RegExp;
}

const BROKEN: readonly Broken[] = [
  {
    what: 'a port as a string',
    file: 'deployment.yaml',
    breakCopy: (d) => (d.spec.template.spec.containers[0].ports[0].containerPort = '5000'),
    schema: /containerPort must be integer/,
    types: /"containerPort": "5000",? TS2322: Type 'string' is not assignable to type 'number'/,
  },
  {
    what: 'no selector',
    file: 'deployment.yaml',
    breakCopy: (d) => delete d.spec.selector,
    schema: /^\/spec must have required property selector$/m,
    types: /TS2741: Property '"?selector"?' is missing/,
  },
  {
    what: 'an unknown field (a typo)',
    file: 'deployment.yaml',
    breakCopy: (d) => (d.spec.template.spec.terminationGracePeriodSecond = 105),
    schema: null,
    types: /TS2353: .*'"?terminationGracePeriodSecond"?' does not exist/,
  },
  {
    what: 'a protocol that does not exist',
    file: 'service.yaml',
    breakCopy: (s) => (s.spec.ports[0].protocol = 'TPC'),
    schema: /^\/spec\/ports\/0\/protocol must be equal to one of the allowed values$/m,
    types: /"protocol": "TPC" TS2\d+: Type '"TPC"' is not assignable/,
  },
  {
    what: 'an unknown field in a container',
    file: 'bench-job.yaml',
    breakCopy: (j) => (j.spec.template.spec.containers[0].arguments = ['bench']),
    schema: null,
    types: /TS2353: .*'"?arguments"?' does not exist/,
  },
  {
    what: 'the CPU as a number',
    file: 'task-definition.json',
    breakCopy: (t) => (t.cpu = 256),
    types: /"cpu": 256, TS2322: Type 'number' is not assignable to type 'string'/,
  },
  {
    what: 'no family',
    file: 'task-definition.json',
    breakCopy: (t) => delete t.family,
    types: /TS2741: Property '"?family"?' is missing/,
  },
  {
    what: 'an unknown parameter (a typo)',
    file: 'task-definition.json',
    breakCopy: (t) => (t.containerDefinitions[0].stopTimeOut = 105),
    types: /TS2353: .*'"?stopTimeOut"?' does not exist in type 'ContainerDefinition'/,
  },
  {
    what: 'a launch type that does not exist',
    file: 'service.json',
    breakCopy: (s) => (s.launchType = 'FARGATE_SPOT'),
    types: /"launchType": "FARGATE_SPOT", TS2\d+: Type '"FARGATE_SPOT"' is not assignable/,
  },
];

function fileObject(file: string): Typed {
  if (file.endsWith('.yaml')) {
    const value = yamlFile(file);
    return { value, type: kubernetesType(value) };
  }
  return { value: jsonFile(file), type: ECS_FILES[file as keyof typeof ECS_FILES] };
}

function brokenCopy({ file, breakCopy }: Broken): Typed {
  const { value, type } = fileObject(file);
  const copy = structuredClone(value);
  breakCopy(copy);
  return { value: copy, type };
}

const files = [...KUBERNETES_FILES, ...Object.keys(ECS_FILES)];
const typeChecked = typeErrors([...files.map(fileObject), ...BROKEN.map(brokenCopy)]);

test('every Kubernetes manifest is valid against the API schema (kubernetes-models)', () => {
  assert.equal(KUBERNETES_FILES, ['bench-job.yaml', 'deployment.yaml', 'service.yaml']);
  for (const name of KUBERNETES_FILES) assert.equal(schemaErrors(yamlFile(name)), [], name);
});

test('every file type-checks as its API request: Kubernetes objects, ECS RegisterTaskDefinition and CreateService', () => {
  files.forEach((name, i) => assert.equal(typeChecked[i], [], name));
});

BROKEN.forEach((broken, i) => {
  test(`a broken copy is caught: ${broken.file} with ${broken.what}`, () => {
    const copy = brokenCopy(broken);
    if (broken.schema !== undefined) {
      const said = schemaErrors(copy.value as Manifest).join('\n');
      if (broken.schema) assert.match(said, broken.schema);
      else
        assert.is(
          said,
          '',
          'the OpenAPI schema allows unknown fields: the type check is what catches them',
        );
    }
    assert.match(typeChecked[files.length + i].join('\n'), broken.types);
  });
});

test.run();
