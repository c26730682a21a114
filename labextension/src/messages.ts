/**
 * The messages of the `fedchain.ledger` comm. Their types and validators are
 * generated from `fedchain_magics/sidebar/message_schema.json` (see
 * scripts/generate-messages.mjs); this module adds the comm target, the
 * schema-version handshake and readable errors. Pure functions: no DOM, no kernel.
 */
import {
  IRequestSnapshotMessage,
  KernelToFrontendMessage,
  INetwork,
  EVENT_KINDS,
  ROUND_PHASES,
  SCHEMA_VERSION
} from './generated/messages';
import {
  IValidateFunction,
  IValidationError,
  validateErrorMessage,
  validateEventMessage,
  validateSnapshotMessage
} from './generated/validate';

export * from './generated/messages';

/** The comm target the kernel extension registers in `load_ipython_extension`. */
export const COMM_TARGET = 'fedchain.ledger';

export type RoundPhase = (typeof ROUND_PHASES)[number];
export type LedgerEventKind = (typeof EVENT_KINDS)[number];

/**
 * Whether the kernel has no ledger open yet (before `%fedchain start`): the kernel then
 * sends a network that is not connected and has chain id 0, which no real chain uses.
 */
export function isNoLedger(network: INetwork): boolean {
  return (
    !network.connected && network.chain_id === 0 && !isClosedLedger(network)
  );
}

/**
 * Whether the kernel closed its ledger (`%fedchain stop`): the state is the last one read
 * before, and `reopen_command` is the magic that opens it again.
 */
export function isClosedLedger(network: INetwork): boolean {
  return network.reopen_command !== null;
}

/** The outcome of reading one comm message; never a thrown error. */
export type ParseResult =
  | { readonly kind: 'message'; readonly message: KernelToFrontendMessage }
  | {
      readonly kind: 'incompatible';
      /** The kernel's schema_version (an integer other than SCHEMA_VERSION). */
      readonly schemaVersion: number;
    }
  | {
      readonly kind: 'malformed';
      /** Where the problem is, e.g. `state.tasks[0].rounds[1].phase` ('' for the whole message). */
      readonly path: string;
      /** What is wrong there, e.g. `expected an integer >= 0, got "3"`. */
      readonly problem: string;
    };

/** The message the sidebar sends when it opens the comm and when it wants a fresh snapshot. */
export function requestSnapshotMessage(): IRequestSnapshotMessage {
  return { schema_version: SCHEMA_VERSION, type: 'request_snapshot' };
}

const VALIDATORS: Record<KernelToFrontendMessage['type'], IValidateFunction> = {
  snapshot: validateSnapshotMessage,
  event: validateEventMessage,
  error: validateErrorMessage
};

/**
 * Read one message from the kernel and check it against the schema. A message
 * from a kernel extension speaking another schema version is reported as
 * incompatible without reading the rest.
 */
export function parseKernelMessage(data: unknown): ParseResult {
  try {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return malformed('', `expected an object, got ${describe(data)}`);
    }
    const message = data as Record<string, unknown>;
    if (!('schema_version' in message)) {
      return malformed('schema_version', 'is missing');
    }
    const version = message.schema_version;
    if (version !== SCHEMA_VERSION) {
      if (typeof version === 'number' && Number.isInteger(version)) {
        return { kind: 'incompatible', schemaVersion: version };
      }
      return malformed(
        'schema_version',
        `expected an integer, got ${describe(version)}`
      );
    }
    if (!('type' in message)) {
      return malformed('type', 'is missing');
    }
    const types = Object.keys(VALIDATORS);
    const type = message.type;
    if (typeof type !== 'string' || !types.includes(type)) {
      return malformed(
        'type',
        `expected one of ${types.map(t => JSON.stringify(t)).join(', ')}, got ${describe(type)}`
      );
    }
    const validate = VALIDATORS[type as KernelToFrontendMessage['type']];
    if (!validate(data)) {
      return explain(data, validate.errors ?? []);
    }
    return { kind: 'message', message: data as KernelToFrontendMessage };
  } catch (error) {
    return malformed('', `could not be read (${String(error)})`);
  }
}

function malformed(path: string, problem: string): ParseResult {
  return { kind: 'malformed', path, problem };
}

/** The first problem ajv found, as a dotted path and a sentence. */
function explain(data: unknown, errors: IValidationError[]): ParseResult {
  const first = errors[0];
  if (!first) {
    return malformed('', 'does not match the schema');
  }
  const at = pointerSegments(data, first.instancePath);
  switch (first.keyword) {
    case 'required':
      return malformed(
        dotted([...at, first.params.missingProperty]),
        'is missing'
      );
    case 'additionalProperties':
      return malformed(
        dotted([...at, first.params.additionalProperty]),
        `is not part of schema version ${SCHEMA_VERSION}`
      );
  }
  // Alternatives (a digest or null) fail together at one place: name them all.
  const expected = errors
    .filter(e => e.instancePath === first.instancePath)
    .map(expectation)
    .filter((text, index, all) => text && all.indexOf(text) === index);
  const value = at.reduce<any>((node, key) => node?.[key], data);
  return malformed(
    dotted(at),
    `expected ${expected.join(' or ')}, got ${describe(value)}`
  );
}

/** What one failed keyword asked for ('' for a summary such as oneOf). */
function expectation(error: IValidationError): string {
  const { params } = error;
  switch (error.keyword) {
    case 'type':
      return String(params.type)
        .split(',')
        .map(type => TYPE_WORDS[type] ?? type)
        .join(' or ');
    case 'pattern':
      return `a string matching ${params.pattern}`;
    case 'minimum':
      return `a number ${params.comparison} ${params.limit}`;
    case 'maximum':
      return `a number ${params.comparison} ${params.limit}`;
    case 'minLength':
      return params.limit === 1
        ? 'a non-empty string'
        : `at least ${params.limit} characters`;
    case 'maxItems':
      return `at most ${params.limit} items`;
    case 'const':
      return JSON.stringify(params.allowedValue);
    case 'enum':
      return `one of ${(params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}`;
    case 'oneOf':
    case 'anyOf':
      return '';
    default:
      return error.message ?? error.keyword;
  }
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null'
};

/** `/state/tasks/0/name` in `data` as ['state', 'tasks', 0, 'name'] (array indices as numbers). */
function pointerSegments(data: unknown, pointer: string): (string | number)[] {
  const segments: (string | number)[] = [];
  let node: any = data;
  for (const raw of pointer ? pointer.slice(1).split('/') : []) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(node) ? Number(key) : key;
    segments.push(segment);
    node = node?.[segment];
  }
  return segments;
}

/** ['state', 'tasks', 0, 'name'] as `state.tasks[0].name`. */
function dotted(segments: (string | number)[]): string {
  return segments.reduce<string>((path, key) => {
    if (typeof key === 'number') {
      return `${path}[${key}]`;
    }
    return path ? `${path}.${key}` : key;
  }, '');
}

function describe(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return `an array of ${value.length} item(s)`;
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(
        value.length > 40 ? value.slice(0, 40) + '…' : value
      );
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
