/**
 * The contract test: message_schema.json (the one the Python side validates
 * with jsonschema), compiled here by ajv at test time, against the fixtures,
 * against the validators generated from it at build time
 * (src/generated/validate.ts) and against parseKernelMessage, which uses them.
 */
import * as fs from 'fs';
import * as path from 'path';

import Ajv2020 from 'ajv/dist/2020';

import {
  EVENT_KINDS,
  parseKernelMessage,
  requestSnapshotMessage,
  ROUND_PHASES,
  SCHEMA_VERSION
} from '../messages';
import {
  clone,
  errorMessage,
  eventMessage,
  hex32,
  INVALID_MESSAGES,
  noLedgerState,
  requestSnapshot,
  snapshotMessage,
  valuedState
} from './fixtures';
import * as generated from '../generated/validate';

const SCHEMA_PATH = path.resolve(
  __dirname,
  '../../../fedchain_magics/sidebar/message_schema.json'
);
const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf-8'));
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(schema);
const validateKernelMessage = ajv.getSchema(
  `${schema.$id}#/$defs/kernel_to_frontend`
)!;
const validateFrontendMessage = ajv.getSchema(
  `${schema.$id}#/$defs/frontend_to_kernel`
)!;
const validateAny = ajv.getSchema(schema.$id)!;

function schemaErrors(data: unknown): string {
  validateKernelMessage(data);
  return ajv.errorsText(validateKernelMessage.errors);
}

describe('message_schema.json', () => {
  it('is a valid draft 2020-12 schema that ajv compiles in strict mode', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(validateKernelMessage).toBeDefined();
    expect(validateFrontendMessage).toBeDefined();
  });

  it('accepts every valid fixture', () => {
    for (const message of [
      snapshotMessage(),
      snapshotMessage(noLedgerState()),
      snapshotMessage(valuedState()),
      eventMessage(),
      errorMessage()
    ]) {
      expect(schemaErrors(message)).toBe('No errors');
      expect(validateAny(message)).toBe(true);
    }
    expect(validateFrontendMessage(requestSnapshot())).toBe(true);
    expect(validateFrontendMessage(requestSnapshotMessage())).toBe(true);
  });

  it('keeps the direction of each message apart', () => {
    expect(validateKernelMessage(requestSnapshot())).toBe(false);
    expect(validateFrontendMessage(snapshotMessage())).toBe(false);
  });

  it.each(INVALID_MESSAGES.map(c => [c.name, c] as const))(
    'rejects an invalid fixture: %s',
    (_name, invalid) => {
      expect(validateKernelMessage(invalid.data)).toBe(false);
    }
  );

  it('names the same schema version, phases and event kinds as the sidebar', () => {
    expect(schema.$defs.schema_version.const).toBe(SCHEMA_VERSION);
    expect(schema.$defs.round.properties.phase.enum).toEqual([...ROUND_PHASES]);
    expect(schema.$defs.ledger_event.properties.kind.enum).toEqual([
      ...EVENT_KINDS
    ]);
  });

  it('requires every property it names and forbids any other', () => {
    for (const [name, definition] of Object.entries<any>(schema.$defs)) {
      if (definition.type !== 'object') {
        continue;
      }
      expect([name, definition.additionalProperties]).toEqual([name, false]);
      expect([name, [...definition.required].sort()]).toEqual([
        name,
        Object.keys(definition.properties).sort()
      ]);
    }
  });
});

describe('the generated validators (src/generated/validate.ts)', () => {
  const GENERATED_SOURCE = fs.readFileSync(
    path.resolve(__dirname, '../generated/validate.ts'),
    'utf-8'
  );

  it('need no schema compilation and nothing from ajv at runtime', () => {
    expect(GENERATED_SOURCE).not.toMatch(/\beval\(|new Function|\brequire\(/);
    expect(GENERATED_SOURCE).not.toMatch(/^import /m);
  });

  it('accept every valid fixture and reject every invalid one', () => {
    for (const message of [
      snapshotMessage(),
      snapshotMessage(noLedgerState()),
      snapshotMessage(valuedState()),
      eventMessage(),
      errorMessage()
    ]) {
      expect(generated.validateKernelToFrontend(message)).toBe(true);
      expect(generated.validateAnyMessage(message)).toBe(true);
      expect(generated.validateFrontendToKernel(message)).toBe(false);
    }
    expect(generated.validateFrontendToKernel(requestSnapshot())).toBe(true);
    expect(generated.validateKernelToFrontend(requestSnapshot())).toBe(false);
    for (const invalid of INVALID_MESSAGES) {
      expect([
        invalid.name,
        generated.validateKernelToFrontend(invalid.data)
      ]).toEqual([invalid.name, false]);
    }
  });

  it('agree with the schema on every single-field mutation of the fixtures', () => {
    const disagreements: string[] = [];
    let checked = 0;
    for (const base of [
      snapshotMessage(),
      snapshotMessage(valuedState()),
      eventMessage(),
      errorMessage()
    ]) {
      for (const [where, variant] of mutations(base, REPLACEMENTS)) {
        const schemaSays = validateKernelMessage(variant) as boolean;
        const generatedSays = generated.validateKernelToFrontend(variant);
        const anySays = generated.validateAnyMessage(variant);
        checked += 1;
        if (schemaSays !== generatedSays || schemaSays !== anySays) {
          disagreements.push(
            `${where}: schema ${schemaSays}, generated ${generatedSays}/${anySays}`
          );
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBeGreaterThan(2000);
  });
});

describe('parseKernelMessage agrees with the schema', () => {
  it.each(INVALID_MESSAGES.map(c => [c.name, c] as const))(
    'rejects what the schema rejects: %s',
    (_name, invalid) => {
      const result = parseKernelMessage(invalid.data);
      expect(result.kind).toBe('malformed');
      if (result.kind === 'malformed') {
        expect(result.path).toBe(invalid.path);
        expect(result.problem).not.toBe('');
      }
    }
  );

  it('accepts what the schema accepts', () => {
    for (const message of [
      snapshotMessage(),
      snapshotMessage(noLedgerState()),
      snapshotMessage(valuedState()),
      eventMessage(),
      errorMessage()
    ]) {
      expect(parseKernelMessage(message)).toEqual({ kind: 'message', message });
    }
  });

  /**
   * Every path of a valid snapshot and event, each replaced by values of
   * every JSON type (and deleted, and given an extra key): the parser accepts
   * exactly the variants that ajv accepts.
   */
  it('on every single-field mutation of the fixtures', () => {
    let checked = 0;
    const disagreements: string[] = [];
    for (const base of [
      snapshotMessage(),
      snapshotMessage(valuedState()),
      eventMessage(),
      errorMessage()
    ]) {
      for (const [where, variant] of mutations(base, REPLACEMENTS)) {
        const schemaSays = validateKernelMessage(variant) as boolean;
        const parserSays = parseKernelMessage(variant).kind === 'message';
        checked += 1;
        if (schemaSays !== parserSays) {
          disagreements.push(
            `${where}: schema ${schemaSays}, parser ${parserSays}`
          );
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBeGreaterThan(2000);
  });
});

/** The values each field of a fixture is replaced with, one at a time. */
const REPLACEMENTS: unknown[] = [
  null,
  true,
  0,
  7,
  -1,
  1.5,
  '',
  'x',
  '12',
  '0x' + 'ab'.repeat(20),
  hex32('ab'),
  'accepted',
  'vote_cast',
  [],
  {}
];

type Path = (string | number)[];

function* paths(value: unknown, at: Path = []): Generator<Path> {
  if (Array.isArray(value)) {
    yield at;
    for (let i = 0; i < value.length; i++) {
      yield* paths(value[i], [...at, i]);
    }
  } else if (value !== null && typeof value === 'object') {
    yield at;
    for (const key of Object.keys(value)) {
      yield* paths((value as any)[key], [...at, key]);
    }
  } else {
    yield at;
  }
}

function* mutations(
  base: object,
  replacements: unknown[]
): Generator<[string, unknown]> {
  for (const at of paths(base)) {
    if (at.length === 0) {
      continue;
    }
    const where = at.join('.');
    const key = at[at.length - 1];
    const parentOf = (copy: any) =>
      at.slice(0, -1).reduce((node, k) => node[k], copy);
    for (const replacement of replacements) {
      const copy = clone(base) as any;
      parentOf(copy)[key] = clone(replacement);
      yield [`${where} = ${JSON.stringify(replacement)}`, copy];
    }
    const copy = clone(base) as any;
    const parent = parentOf(copy);
    if (Array.isArray(parent)) {
      parent.splice(key as number, 1);
    } else {
      delete parent[key];
    }
    yield [`delete ${where}`, copy];
    const target = at.reduce<any>((node, k) => node[k], clone(base));
    if (
      target !== null &&
      typeof target === 'object' &&
      !Array.isArray(target)
    ) {
      const extended = clone(base) as any;
      at.reduce<any>((node, k) => node[k], extended).unexpected = 1;
      yield [`${where}.unexpected = 1`, extended];
    }
  }
}
