// The deploy/ files against the APIs that take them. Kubernetes objects: kubernetes-models, made
// from the API server's OpenAPI schema, whose validators check types, required fields, enums and
// formats. ECS requests: the AWS SDK's input types, made from the service's own model. Both are
// also type-checked by tsc, each object written out as a literal that `satisfies` its type, so a
// field the API does not know is an error too: the OpenAPI schema lets unknown fields through,
// but `kubectl apply` refuses them (strict field validation), as ECS refuses an unknown parameter.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Service } from 'kubernetes-models/v1/Service';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));
const TSC = join(NODE_MODULES, 'typescript', 'bin', 'tsc');

/** A TypeScript type an object must satisfy: its name and the module that exports it. */
export interface ApiType {
  readonly name: string;
  readonly from: string;
}

type Model = new (data: object) => { validate(): void };

/** The kinds deploy/kubernetes/ holds, by `apiVersion kind`. */
const KINDS: Record<string, { model: Model; type: ApiType }> = {
  'apps/v1 Deployment': {
    model: Deployment,
    type: { name: 'IDeployment', from: 'kubernetes-models/apps/v1/Deployment' },
  },
  'v1 Service': {
    model: Service,
    type: { name: 'IService', from: 'kubernetes-models/v1/Service' },
  },
  'batch/v1 Job': { model: Job, type: { name: 'IJob', from: 'kubernetes-models/batch/v1/Job' } },
};

/** The request types of the ECS calls that take deploy/ecs/*.json. */
export const ECS = {
  registerTaskDefinition: {
    name: 'RegisterTaskDefinitionCommandInput',
    from: '@aws-sdk/client-ecs',
  },
  createService: { name: 'CreateServiceCommandInput', from: '@aws-sdk/client-ecs' },
} as const satisfies Record<string, ApiType>;

interface TypeMeta {
  readonly apiVersion: string;
  readonly kind: string;
}

function kindOf(object: TypeMeta) {
  const kind = KINDS[`${object.apiVersion} ${object.kind}`];
  if (!kind) throw new Error(`${object.apiVersion} ${object.kind}: add the kind to KINDS`);
  return kind;
}

/** The type a Kubernetes object must satisfy. */
export function kubernetesType(object: TypeMeta): ApiType {
  return kindOf(object).type;
}

/** What the API schema finds wrong with a Kubernetes object, one line each (none: valid). */
export function schemaErrors(object: TypeMeta): string[] {
  try {
    new (kindOf(object).model)(object).validate();
    return [];
  } catch (error) {
    const found = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!found) throw error;
    return found.map((e) => `${e.instancePath || '/'} ${e.message}`);
  }
}

/** An object and the type it must satisfy. */
export interface Typed {
  readonly value: unknown;
  readonly type: ApiType;
}

/** tsc's errors for each object, as `line of the object: TSnnnn: message` (one tsc run for all). */
export function typeErrors(objects: readonly Typed[]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'api-types-'));
  try {
    symlinkSync(NODE_MODULES, join(dir, 'node_modules'));
    const sources = objects.map(literalSource);
    const files = sources.map((text, i) => {
      writeFileSync(join(dir, `${i}.ts`), text);
      return `${i}.ts`;
    });
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
    const tsc = spawnSync(process.execPath, [TSC, '-p', '.', '--pretty', 'false'], {
      cwd: dir,
      encoding: 'utf8',
    });
    const errors = objects.map((): string[] => []);
    for (const [, file, line, message] of tsc.stdout.matchAll(
      /^(\d+)\.ts\((\d+),\d+\): error (TS\d+: .*)$/gm,
    )) {
      const text = sources[Number(file)].split('\n')[Number(line) - 1].trim();
      errors[Number(file)].push(`${text} ${message}`);
    }
    // A failure that names none of the files is this helper's own mistake.
    if (tsc.status !== 0 && errors.every((e) => e.length === 0))
      throw new Error(`tsc: ${tsc.stdout}${tsc.stderr}`);
    return errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const compilerOptions = {
  target: 'es2024',
  module: 'nodenext',
  moduleResolution: 'nodenext',
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
};

function literalSource({ value, type }: Typed): string {
  return [
    `import type { ${type.name} } from '${type.from}';`,
    '',
    `export default ${JSON.stringify(value, null, 2)} satisfies ${type.name};`,
    '',
  ].join('\n');
}
