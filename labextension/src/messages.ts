/**
 * The messages of the `fedchain.ledger` comm, as TypeScript types, and a parser
 * that checks incoming data against exactly what
 * `fedchain_magics/sidebar/message_schema.json` allows (the tests hold the two
 * to agreement). Pure functions: no DOM, no kernel.
 */

/** The comm target the kernel extension registers in `load_ipython_extension`. */
export const COMM_TARGET = 'fedchain.ledger';

/** The version of the message contract this sidebar understands. */
export const SCHEMA_VERSION = 1;

export const ROUND_PHASES = [
  'collecting',
  'aggregated',
  'validating',
  'accepted',
  'rejected'
] as const;

export type RoundPhase = (typeof ROUND_PHASES)[number];

export const EVENT_KINDS = [
  'block',
  'task_created',
  'validator_added',
  'participant_joined',
  'round_opened',
  'update_committed',
  'aggregate_committed',
  'aggregate_verified',
  'model_committed',
  'vote_cast',
  'round_finalized',
  'reward_claimed'
] as const;

export type LedgerEventKind = (typeof EVENT_KINDS)[number];

export interface INetwork {
  name: string;
  chain_id: number;
  block_number: number;
  embedded: boolean;
  ledger_dir: string | null;
  url: string | null;
  connected: boolean;
}

/**
 * Whether the kernel has no ledger open yet (before `%fedchain start`): the kernel then
 * sends a network that is not connected and has chain id 0, which no real chain uses.
 */
export function isNoLedger(network: INetwork): boolean {
  return !network.connected && network.chain_id === 0;
}

export interface IContribution {
  participant: string;
  name: string | null;
  samples: number;
  update_digest: string;
  block_number: number;
  gas_used: number | null;
  /** Token base units as a decimal string. */
  reward: string | null;
  claimed: boolean;
}

export interface IRound {
  round: number;
  phase: RoundPhase;
  commit_count: number;
  total_samples: number;
  accept_votes: number;
  reject_votes: number;
  aggregate_digest: string | null;
  model_digest: string | null;
  aggregate_verified: boolean | null;
  contributions: IContribution[];
}

export interface ITask {
  task_id: number;
  name: string | null;
  coordinator: string;
  participant_count: number;
  validator_count: number;
  min_participants: number;
  max_rounds: number;
  validator_quorum: number;
  /** Token base units as a decimal string. */
  reward_per_round: string;
  current_round: number;
  current_model_digest: string;
  rounds: IRound[];
}

export interface IBalance {
  account: string;
  name: string | null;
  /** Token base units as a decimal string (may exceed 2^53). */
  balance: string;
  balance_tokens: number;
}

export interface ILedgerEvent {
  kind: LedgerEventKind;
  block_number: number;
  task_id: number | null;
  round: number | null;
  account: string | null;
  summary: string;
  tx_hash: string | null;
  gas_used: number | null;
}

export interface ILedgerState {
  network: INetwork;
  tasks: ITask[];
  balances: IBalance[];
  /** Oldest first, at most 50. */
  events: ILedgerEvent[];
  token_symbol: string;
  /** Base units per token = 10^token_decimals. */
  token_decimals: number;
}

export interface ISnapshotMessage {
  schema_version: typeof SCHEMA_VERSION;
  type: 'snapshot';
  state: ILedgerState;
}

export interface IEventMessage {
  schema_version: typeof SCHEMA_VERSION;
  type: 'event';
  event: ILedgerEvent;
  state: ILedgerState;
}

export interface IErrorMessage {
  schema_version: typeof SCHEMA_VERSION;
  type: 'error';
  message: string;
}

export interface IRequestSnapshotMessage {
  schema_version: typeof SCHEMA_VERSION;
  type: 'request_snapshot';
}

/** A message the kernel sends to the sidebar. */
export type KernelToFrontendMessage =
  ISnapshotMessage | IEventMessage | IErrorMessage;

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

/**
 * Read one message from the kernel. Checks every field against the schema;
 * a message from a kernel extension speaking another schema version is
 * reported as incompatible without reading the rest.
 */
export function parseKernelMessage(data: unknown): ParseResult {
  try {
    const message = asObject(data, '');
    if (!('schema_version' in message)) {
      return malformed('schema_version', 'is missing');
    }
    const version = message.schema_version;
    if (version !== SCHEMA_VERSION) {
      if (isInteger(version)) {
        return { kind: 'incompatible', schemaVersion: version };
      }
      return malformed(
        'schema_version',
        `expected an integer, got ${describe(version)}`
      );
    }
    const type = oneOf(field(message, 'type', ''), 'type', [
      'snapshot',
      'event',
      'error'
    ] as const);
    switch (type) {
      case 'snapshot':
        checkKeys(message, '', ['schema_version', 'type', 'state']);
        parseState(message.state, 'state');
        break;
      case 'event':
        checkKeys(message, '', ['schema_version', 'type', 'event', 'state']);
        parseEvent(message.event, 'event');
        parseState(message.state, 'state');
        break;
      case 'error':
        checkKeys(message, '', ['schema_version', 'type', 'message']);
        asString(message.message, 'message', { minLength: 1 });
        break;
    }
    return {
      kind: 'message',
      message: message as unknown as KernelToFrontendMessage
    };
  } catch (error) {
    if (error instanceof MessageFormatError) {
      return malformed(error.path, error.problem);
    }
    return malformed('', `could not be read (${String(error)})`);
  }
}

/* ------------------------------------------------------------------------ */
/* The checks below mirror message_schema.json's $defs one for one.          */

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const DIGEST = /^0x[0-9a-fA-F]{64}$/;
const TOKEN_AMOUNT = /^(0|[1-9][0-9]*)$/;

class MessageFormatError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string
  ) {
    super(`${path || 'message'}: ${problem}`);
  }
}

type JSONRecord = Record<string, unknown>;

function malformed(path: string, problem: string): ParseResult {
  return { kind: 'malformed', path, problem };
}

function fail(path: string, problem: string): never {
  throw new MessageFormatError(path, problem);
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') {
    return `${path}[${key}]`;
  }
  return path ? `${path}.${key}` : key;
}

function describe(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return 'an array';
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

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function asObject(value: unknown, path: string): JSONRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, `expected an object, got ${describe(value)}`);
  }
  return value as JSONRecord;
}

/** Every key in `keys` is present, and no other key is (additionalProperties: false). */
function checkKeys(record: JSONRecord, path: string, keys: readonly string[]) {
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) {
      fail(join(path, key), 'is missing');
    }
  }
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) {
      fail(join(path, key), 'is not part of schema version 1');
    }
  }
}

function record(
  value: unknown,
  path: string,
  keys: readonly string[]
): JSONRecord {
  const result = asObject(value, path);
  checkKeys(result, path, keys);
  return result;
}

function field(record: JSONRecord, key: string, path: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(record, key)) {
    fail(join(path, key), 'is missing');
  }
  return record[key];
}

function asString(
  value: unknown,
  path: string,
  options: { pattern?: RegExp; what?: string; minLength?: number } = {}
): string {
  const what = options.what ?? 'a string';
  if (typeof value !== 'string') {
    fail(path, `expected ${what}, got ${describe(value)}`);
  }
  if (options.pattern && !options.pattern.test(value)) {
    fail(path, `expected ${what}, got ${describe(value)}`);
  }
  if (options.minLength !== undefined && value.length < options.minLength) {
    fail(path, 'must not be empty');
  }
  return value;
}

function asCount(value: unknown, path: string): number {
  if (!isInteger(value) || value < 0) {
    fail(path, `expected an integer >= 0, got ${describe(value)}`);
  }
  return value;
}

function asBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') {
    fail(path, `expected true or false, got ${describe(value)}`);
  }
  return value;
}

function nullable<T>(
  check: (value: unknown, path: string) => T
): (value: unknown, path: string) => T | null {
  return (value, path) => (value === null ? null : check(value, path));
}

function oneOf<T extends string>(
  value: unknown,
  path: string,
  allowed: readonly T[]
): T {
  if (
    typeof value !== 'string' ||
    !(allowed as readonly string[]).includes(value)
  ) {
    fail(
      path,
      `expected one of ${allowed.map(a => JSON.stringify(a)).join(', ')}, got ${describe(value)}`
    );
  }
  return value as T;
}

function asArray(
  value: unknown,
  path: string,
  item: (value: unknown, path: string) => unknown,
  maxItems?: number
): void {
  if (!Array.isArray(value)) {
    fail(path, `expected an array, got ${describe(value)}`);
  }
  if (maxItems !== undefined && value.length > maxItems) {
    fail(path, `expected at most ${maxItems} items, got ${value.length}`);
  }
  value.forEach((entry, index) => item(entry, join(path, index)));
}

const asAddress = (value: unknown, path: string) =>
  asString(value, path, { pattern: ADDRESS, what: 'a 0x address' });
const asDigest = (value: unknown, path: string) =>
  asString(value, path, {
    pattern: DIGEST,
    what: 'a 0x-prefixed 32-byte hex digest'
  });
const asTokenAmount = (value: unknown, path: string) =>
  asString(value, path, {
    pattern: TOKEN_AMOUNT,
    what: 'a decimal string of token base units'
  });
const asNullableString = nullable((value, path) => asString(value, path));

function parseNetwork(value: unknown, path: string): void {
  const network = record(value, path, [
    'name',
    'chain_id',
    'block_number',
    'embedded',
    'ledger_dir',
    'url',
    'connected'
  ]);
  asString(network.name, join(path, 'name'));
  asCount(network.chain_id, join(path, 'chain_id'));
  asCount(network.block_number, join(path, 'block_number'));
  asBoolean(network.embedded, join(path, 'embedded'));
  asNullableString(network.ledger_dir, join(path, 'ledger_dir'));
  asNullableString(network.url, join(path, 'url'));
  asBoolean(network.connected, join(path, 'connected'));
}

function parseContribution(value: unknown, path: string): void {
  const contribution = record(value, path, [
    'participant',
    'name',
    'samples',
    'update_digest',
    'block_number',
    'gas_used',
    'reward',
    'claimed'
  ]);
  asAddress(contribution.participant, join(path, 'participant'));
  asNullableString(contribution.name, join(path, 'name'));
  asCount(contribution.samples, join(path, 'samples'));
  asDigest(contribution.update_digest, join(path, 'update_digest'));
  asCount(contribution.block_number, join(path, 'block_number'));
  nullable(asCount)(contribution.gas_used, join(path, 'gas_used'));
  nullable(asTokenAmount)(contribution.reward, join(path, 'reward'));
  asBoolean(contribution.claimed, join(path, 'claimed'));
}

function parseRound(value: unknown, path: string): void {
  const round = record(value, path, [
    'round',
    'phase',
    'commit_count',
    'total_samples',
    'accept_votes',
    'reject_votes',
    'aggregate_digest',
    'model_digest',
    'aggregate_verified',
    'contributions'
  ]);
  asCount(round.round, join(path, 'round'));
  oneOf(round.phase, join(path, 'phase'), ROUND_PHASES);
  asCount(round.commit_count, join(path, 'commit_count'));
  asCount(round.total_samples, join(path, 'total_samples'));
  asCount(round.accept_votes, join(path, 'accept_votes'));
  asCount(round.reject_votes, join(path, 'reject_votes'));
  nullable(asDigest)(round.aggregate_digest, join(path, 'aggregate_digest'));
  nullable(asDigest)(round.model_digest, join(path, 'model_digest'));
  nullable(asBoolean)(
    round.aggregate_verified,
    join(path, 'aggregate_verified')
  );
  asArray(round.contributions, join(path, 'contributions'), parseContribution);
}

function parseTask(value: unknown, path: string): void {
  const task = record(value, path, [
    'task_id',
    'name',
    'coordinator',
    'participant_count',
    'validator_count',
    'min_participants',
    'max_rounds',
    'validator_quorum',
    'reward_per_round',
    'current_round',
    'current_model_digest',
    'rounds'
  ]);
  asCount(task.task_id, join(path, 'task_id'));
  asNullableString(task.name, join(path, 'name'));
  asAddress(task.coordinator, join(path, 'coordinator'));
  asCount(task.participant_count, join(path, 'participant_count'));
  asCount(task.validator_count, join(path, 'validator_count'));
  asCount(task.min_participants, join(path, 'min_participants'));
  asCount(task.max_rounds, join(path, 'max_rounds'));
  asCount(task.validator_quorum, join(path, 'validator_quorum'));
  asTokenAmount(task.reward_per_round, join(path, 'reward_per_round'));
  asCount(task.current_round, join(path, 'current_round'));
  asDigest(task.current_model_digest, join(path, 'current_model_digest'));
  asArray(task.rounds, join(path, 'rounds'), parseRound);
}

function parseBalance(value: unknown, path: string): void {
  const balance = record(value, path, [
    'account',
    'name',
    'balance',
    'balance_tokens'
  ]);
  asAddress(balance.account, join(path, 'account'));
  asNullableString(balance.name, join(path, 'name'));
  asTokenAmount(balance.balance, join(path, 'balance'));
  const tokens = balance.balance_tokens;
  if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) {
    fail(
      join(path, 'balance_tokens'),
      `expected a number >= 0, got ${describe(tokens)}`
    );
  }
}

function parseEvent(value: unknown, path: string): void {
  const event = record(value, path, [
    'kind',
    'block_number',
    'task_id',
    'round',
    'account',
    'summary',
    'tx_hash',
    'gas_used'
  ]);
  oneOf(event.kind, join(path, 'kind'), EVENT_KINDS);
  asCount(event.block_number, join(path, 'block_number'));
  nullable(asCount)(event.task_id, join(path, 'task_id'));
  nullable(asCount)(event.round, join(path, 'round'));
  nullable(asAddress)(event.account, join(path, 'account'));
  asString(event.summary, join(path, 'summary'));
  nullable(asDigest)(event.tx_hash, join(path, 'tx_hash'));
  nullable(asCount)(event.gas_used, join(path, 'gas_used'));
}

function parseState(value: unknown, path: string): void {
  const state = record(value, path, [
    'network',
    'tasks',
    'balances',
    'events',
    'token_symbol',
    'token_decimals'
  ]);
  parseNetwork(state.network, join(path, 'network'));
  asArray(state.tasks, join(path, 'tasks'), parseTask);
  asArray(state.balances, join(path, 'balances'), parseBalance);
  asArray(state.events, join(path, 'events'), parseEvent, 50);
  asString(state.token_symbol, join(path, 'token_symbol'));
  const decimals = state.token_decimals;
  if (!isInteger(decimals) || decimals < 0 || decimals > 36) {
    fail(
      join(path, 'token_decimals'),
      `expected an integer from 0 to 36, got ${describe(decimals)}`
    );
  }
}
