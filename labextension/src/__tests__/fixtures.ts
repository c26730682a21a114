/**
 * Messages shaped like the kernel extension sends them. Typed with the
 * sidebar's own interfaces AND validated against message_schema.json in
 * schema.spec.ts, so the TypeScript types, the schema and these fixtures
 * are held to one another.
 */
import type {
  IErrorMessage,
  IEventMessage,
  ILedgerEvent,
  ILedgerState,
  IRequestSnapshotMessage,
  ISnapshotMessage
} from '../messages';

export const ALICE = '0x1111111111111111111111111111111111111111';
export const BOB = '0x2222222222222222222222222222222222222222';
export const CAROL = '0x3333333333333333333333333333333333333333';
export const COORDINATOR = '0xC0C0C0C0c0c0c0c0c0c0C0C0C0c0c0c0C0C0c0C0';
export const VALIDATOR = '0x4444444444444444444444444444444444444444';
export const DAVE = '0x5555555555555555555555555555555555555555';
export const ERIN = '0x6666666666666666666666666666666666666666';
export const FRANK = '0x7777777777777777777777777777777777777777';

export function hex32(fill: string): string {
  return '0x' + fill.repeat(64).slice(0, 64);
}

const TOKEN = '1000000000000000000';

export function sampleEvents(): ILedgerEvent[] {
  return [
    {
      kind: 'task_created',
      block_number: 3,
      task_id: 1,
      round: null,
      account: COORDINATOR,
      summary: 'Task 1 "breast-cancer" created by coordinator',
      tx_hash: hex32('a1'),
      gas_used: 180412
    },
    {
      kind: 'round_opened',
      block_number: 7,
      task_id: 1,
      round: 1,
      account: COORDINATOR,
      summary: 'Round 1 opened',
      tx_hash: hex32('a2'),
      gas_used: 51000
    },
    {
      kind: 'update_committed',
      block_number: 8,
      task_id: 1,
      round: 1,
      account: ALICE,
      summary: 'alice committed an update (300 samples)',
      tx_hash: hex32('a3'),
      gas_used: 104936
    },
    {
      kind: 'round_finalized',
      block_number: 14,
      task_id: 1,
      round: 1,
      account: null,
      summary: 'Round 1 accepted (2 of 2 votes)',
      tx_hash: hex32('a4'),
      gas_used: 88000
    },
    {
      kind: 'block',
      block_number: 15,
      task_id: null,
      round: null,
      account: null,
      summary: 'Block 15',
      tx_hash: null,
      gas_used: null
    }
  ];
}

export function sampleState(): ILedgerState {
  return {
    network: {
      name: 'eth-tester',
      chain_id: 131277322940537,
      block_number: 15,
      embedded: true,
      ledger_dir: '/tmp/fedchain/ledger',
      url: null,
      connected: true,
      reopen_command: null
    },
    tasks: [
      {
        task_id: 1,
        name: 'breast-cancer',
        coordinator: COORDINATOR,
        participant_count: 3,
        validator_count: 2,
        min_participants: 2,
        max_rounds: 3,
        validator_quorum: 2,
        reward_per_round: '100' + TOKEN.slice(1),
        current_round: 2,
        current_model_digest: hex32('bb'),
        rounds: [
          {
            round: 1,
            phase: 'accepted',
            commit_count: 3,
            total_samples: 900,
            accept_votes: 2,
            reject_votes: 0,
            aggregate_digest: hex32('cc'),
            model_digest: hex32('bb'),
            aggregate_verified: true,
            contributions: [
              {
                participant: ALICE,
                name: 'alice',
                samples: 300,
                update_digest: hex32('01'),
                block_number: 8,
                gas_used: 139136,
                reward: '33333333333333333333',
                claimed: true,
                payout: null
              },
              {
                participant: BOB,
                name: 'bob',
                samples: 400,
                update_digest: hex32('02'),
                block_number: 9,
                gas_used: 104936,
                reward: '44444444444444444444',
                claimed: false,
                payout: null
              },
              {
                participant: CAROL,
                name: null,
                samples: 200,
                update_digest: hex32('03'),
                block_number: 10,
                gas_used: null,
                reward: '22222222222222222222',
                claimed: false,
                payout: null
              }
            ]
          },
          {
            round: 2,
            phase: 'collecting',
            commit_count: 1,
            total_samples: 350,
            accept_votes: 0,
            reject_votes: 0,
            aggregate_digest: null,
            model_digest: null,
            aggregate_verified: null,
            contributions: [
              {
                participant: ALICE,
                name: 'alice',
                samples: 350,
                update_digest: hex32('04'),
                block_number: 15,
                gas_used: 104936,
                reward: null,
                claimed: false,
                payout: null
              }
            ]
          }
        ],
        valuation: 'off',
        privacy: 'off',
        stakes: null,
        governance: null
      }
    ],
    balances: [
      {
        account: CAROL,
        name: null,
        balance: '22222222222222222222',
        balance_tokens: 22.2222
      },
      {
        account: ALICE,
        name: 'alice',
        balance: '33333333333333333333',
        balance_tokens: 33.3333
      },
      {
        account: BOB,
        name: 'bob',
        balance: '44444444444444444444',
        balance_tokens: 44.4444
      },
      {
        account: VALIDATOR,
        name: 'validator-1',
        balance: '0',
        balance_tokens: 0
      }
    ],
    events: sampleEvents(),
    token_symbol: 'FCT',
    token_decimals: 18
  };
}

/**
 * A valued task (Shapley over groups of 3) after one accepted round, as the
 * kernel words it: each contribution's payout and why, every party's stake
 * (bob slashed for a low standing), and two governance proposals (one
 * executed from round 2, one still voting). Six parties, two groups.
 */
export function valuedState(): ILedgerState {
  const state = sampleState();
  const parties: [string, string | null, number][] = [
    [ALICE, 'alice', 1],
    [BOB, 'bob', 2],
    [CAROL, null, 1],
    [DAVE, 'dave', 2],
    [ERIN, 'erin-from-a-rather-long-organisation-name', 1],
    [FRANK, 'frank', 2]
  ];
  const rewards: Record<number, string> = {
    1: '12009300000000000000',
    2: '7990680000000000000'
  };
  state.tasks = [
    {
      ...state.tasks[0],
      name: 'valued',
      participant_count: 6,
      min_participants: 6,
      validator_quorum: 1,
      current_round: 1,
      reward_per_round: '60' + TOKEN.slice(1),
      rounds: [
        {
          round: 1,
          phase: 'accepted',
          commit_count: 6,
          total_samples: 426,
          accept_votes: 1,
          reject_votes: 0,
          aggregate_digest: hex32('cc'),
          model_digest: hex32('bb'),
          aggregate_verified: true,
          contributions: parties.map(([participant, name, group], index) => {
            const lowStanding = participant === BOB;
            const value = group === 1 ? 0.161 : 0.107;
            return {
              participant,
              name,
              samples: 71,
              update_digest: hex32(`1${index}`),
              block_number: 20 + index,
              gas_used: 104936,
              reward: lowStanding ? '0' : rewards[group],
              claimed: !lowStanding,
              payout: {
                group: `g${group}`,
                group_number: group,
                group_score: group === 1 ? 1.2 : 0.8,
                group_value: value,
                median_value: 0.134,
                standing: lowStanding ? 0.41 : group === 1 ? 1.05 : 0.95,
                min_standing: 0.75,
                share_ppm: lowStanding ? 0 : group === 1 ? 200155 : 133178,
                capped_samples: 71,
                rounds: 1,
                paid: !lowStanding,
                reason: lowStanding ? 'low standing' : 'paid',
                why: lowStanding
                  ? 'standing 0.41 < 0.75: not paid'
                  : `group ${group} scored ${value} (median 0.134); standing ` +
                    `${group === 1 ? '1.05' : '0.95'} ≥ 0.75; ` +
                    `${group === 1 ? '20.0' : '13.3'}% of the round by 71 capped samples`
              }
            };
          })
        }
      ],
      valuation: 'shapley',
      privacy: 'masked',
      stakes: {
        required_stake: '10' + TOKEN.slice(1),
        role_stake: '0',
        slash: 0.25,
        min_standing: 0.5,
        dispute_bond: '0',
        parties: parties.map(([account, name]) => {
          const slashed = account === BOB;
          return {
            account,
            name,
            role: 'participant',
            staked: '10' + TOKEN.slice(1),
            slashed: slashed ? '2500000000000000000' : '0',
            refunded: '0',
            pool_share: '0',
            withdrawn: false,
            change_count: slashed ? 2 : 1,
            last_change: slashed
              ? {
                  kind: 'slashed',
                  amount: '2500000000000000000',
                  round: 1,
                  reason: 'low standing 0.41 < 0.50',
                  block_number: 31
                }
              : {
                  kind: 'staked',
                  amount: '10' + TOKEN.slice(1),
                  round: 1,
                  reason: 'participant stake',
                  block_number: 12
                }
          };
        })
      },
      governance: {
        rules: [
          { rule: 'k', value: '3' },
          { rule: 'valuation', value: 'shapley' },
          { rule: 'min standing', value: '0.75' }
        ],
        from_round: 2,
        proposals: [
          {
            number: 1,
            description: 'k 3 and Shapley',
            state: 'executed',
            changes: [{ rule: 'valuation', value: 'shapley' }],
            votes_for: '40' + TOKEN.slice(1),
            votes_against: '8' + TOKEN.slice(1),
            votes_abstain: '0',
            quorum: '15' + TOKEN.slice(1),
            from_round: 2
          },
          {
            number: 2,
            description: 'k 6: groups of 3 are too noisy',
            state: 'active',
            changes: [{ rule: 'k', value: '6' }],
            votes_for: '5' + TOKEN.slice(1),
            votes_against: '0',
            votes_abstain: '2' + TOKEN.slice(1),
            quorum: '15' + TOKEN.slice(1),
            from_round: null
          }
        ]
      }
    }
  ];
  return state;
}

/** What the kernel sends before `%fedchain start` (fedchain_magics.sidebar.state.empty_state). */
export function noLedgerState(): ILedgerState {
  return {
    network: {
      name: '',
      chain_id: 0,
      block_number: 0,
      embedded: false,
      ledger_dir: null,
      url: null,
      connected: false,
      reopen_command: null
    },
    tasks: [],
    balances: [],
    events: [],
    token_symbol: '',
    token_decimals: 0
  };
}

export function snapshotMessage(state = sampleState()): ISnapshotMessage {
  return { schema_version: 4, type: 'snapshot', state };
}

export function eventMessage(): IEventMessage {
  const state = sampleState();
  const event: ILedgerEvent = {
    kind: 'vote_cast',
    block_number: 16,
    task_id: 1,
    round: 2,
    account: VALIDATOR,
    summary: 'validator-1 voted to accept round 2',
    tx_hash: hex32('a5'),
    gas_used: 61000
  };
  state.network.block_number = 16;
  state.events = [...state.events, event];
  state.tasks[0].rounds[1].accept_votes = 1;
  return { schema_version: 4, type: 'event', event, state };
}

export function errorMessage(): IErrorMessage {
  return {
    schema_version: 4,
    type: 'error',
    message: 'The ledger node at http://127.0.0.1:8545 does not answer.'
  };
}

export function requestSnapshot(): IRequestSnapshotMessage {
  return { schema_version: 4, type: 'request_snapshot' };
}

/** Deep copy of JSON data, for mutating a fixture. */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

type Mutable = Record<string, any>;

/** A named kernel message that the schema must reject, built from a valid one. */
export interface IInvalidCase {
  name: string;
  data: unknown;
  /** Where the parser should point (its `path`). */
  path: string;
}

function mutated(
  name: string,
  path: string,
  edit: (message: Mutable) => void
): IInvalidCase {
  const message = clone(snapshotMessage()) as Mutable;
  edit(message);
  return { name, data: message, path };
}

export const INVALID_MESSAGES: IInvalidCase[] = [
  mutated('no state', 'state', m => delete m.state),
  mutated('no type', 'type', m => delete m.type),
  mutated('unknown type', 'type', m => (m.type = 'snapshots')),
  mutated('extra top-level key', 'extra', m => (m.extra = 1)),
  mutated('state is a list', 'state', m => (m.state = [])),
  mutated('network missing', 'state.network', m => delete m.state.network),
  mutated('block_number is a string', 'state.network.block_number', m => {
    m.state.network.block_number = '15';
  }),
  mutated('block_number is negative', 'state.network.block_number', m => {
    m.state.network.block_number = -1;
  }),
  mutated('block_number is fractional', 'state.network.block_number', m => {
    m.state.network.block_number = 1.5;
  }),
  mutated('embedded is a string', 'state.network.embedded', m => {
    m.state.network.embedded = 'yes';
  }),
  mutated(
    'url is a number',
    'state.network.url',
    m => (m.state.network.url = 8545)
  ),
  mutated('tasks is an object', 'state.tasks', m => (m.state.tasks = {})),
  mutated('coordinator is not an address', 'state.tasks[0].coordinator', m => {
    m.state.tasks[0].coordinator = '0x1234';
  }),
  mutated(
    'reward_per_round is a number',
    'state.tasks[0].reward_per_round',
    m => {
      m.state.tasks[0].reward_per_round = 100;
    }
  ),
  mutated(
    'reward_per_round has a leading zero',
    'state.tasks[0].reward_per_round',
    m => {
      m.state.tasks[0].reward_per_round = '0100';
    }
  ),
  mutated('unknown phase', 'state.tasks[0].rounds[1].phase', m => {
    m.state.tasks[0].rounds[1].phase = 'voting';
  }),
  mutated(
    'digest too short',
    'state.tasks[0].rounds[0].aggregate_digest',
    m => {
      m.state.tasks[0].rounds[0].aggregate_digest = '0xabc';
    }
  ),
  mutated(
    'aggregate_verified is a string',
    'state.tasks[0].rounds[0].aggregate_verified',
    m => {
      m.state.tasks[0].rounds[0].aggregate_verified = 'pending';
    }
  ),
  mutated(
    'contribution without samples',
    'state.tasks[0].rounds[0].contributions[1].samples',
    m => {
      delete m.state.tasks[0].rounds[0].contributions[1].samples;
    }
  ),
  mutated(
    'extra key in a contribution',
    'state.tasks[0].rounds[0].contributions[0].weight',
    m => {
      m.state.tasks[0].rounds[0].contributions[0].weight = 0.5;
    }
  ),
  mutated('balance is a number', 'state.balances[0].balance', m => {
    m.state.balances[0].balance = 22;
  }),
  mutated(
    'balance_tokens is a string',
    'state.balances[0].balance_tokens',
    m => {
      m.state.balances[0].balance_tokens = '22.2';
    }
  ),
  mutated(
    'balance_tokens is negative',
    'state.balances[0].balance_tokens',
    m => {
      m.state.balances[0].balance_tokens = -1;
    }
  ),
  mutated('unknown event kind', 'state.events[0].kind', m => {
    m.state.events[0].kind = 'task_deleted';
  }),
  mutated('event tx_hash not hex', 'state.events[0].tx_hash', m => {
    m.state.events[0].tx_hash = hex32('zz');
  }),
  mutated('more than 50 events', 'state.events', m => {
    m.state.events = Array.from({ length: 51 }, () => m.state.events[4]);
  }),
  mutated(
    'token_symbol missing',
    'state.token_symbol',
    m => delete m.state.token_symbol
  ),
  mutated('token_decimals too large', 'state.token_decimals', m => {
    m.state.token_decimals = 99;
  }),
  {
    name: 'error without message',
    data: { schema_version: 4, type: 'error' },
    path: 'message'
  },
  {
    name: 'error with an empty message',
    data: { schema_version: 4, type: 'error', message: '' },
    path: 'message'
  },
  {
    name: 'event without event',
    data: { schema_version: 4, type: 'event', state: sampleState() },
    path: 'event'
  },
  {
    name: 'a request_snapshot (frontend to kernel) sent by the kernel',
    data: requestSnapshot(),
    path: 'type'
  },
  {
    name: 'schema_version missing',
    data: { type: 'snapshot' },
    path: 'schema_version'
  },
  {
    name: 'schema_version is a string',
    data: { schema_version: '2', type: 'snapshot', state: sampleState() },
    path: 'schema_version'
  },
  { name: 'a string', data: 'snapshot', path: '' },
  { name: 'a number', data: 42, path: '' },
  { name: 'null', data: null, path: '' },
  { name: 'an array', data: [snapshotMessage()], path: '' },
  { name: 'nothing', data: undefined, path: '' }
];
