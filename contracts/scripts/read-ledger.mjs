#!/usr/bin/env node
// Read a fedchain ledger from JavaScript with ethers.js 6, by ABI alone: ERC-20 balances of the
// given accounts and every event of the training contract, decoded, printed as one JSON object.
//
//   node contracts/scripts/read-ledger.mjs --rpc http://127.0.0.1:8545/ --training 0x... \
//        [--accounts 0xA,0xB] [--from-block 0] [--events UpdateCommitted,RoundFinalized]
//
// The bearer token of a served ledger, if it has one, comes from $FEDCHAIN_SERVE_TOKEN. The reward
// token's address is read from the training contract (`token()`). ABIs come from the committed
// artifacts in fedchain_magics/chain/artifacts/. Integers are printed as decimal strings.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Contract, FetchRequest, Interface, JsonRpcProvider } from "ethers";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fedchain_magics", "chain", "artifacts");

function abiOf(name) {
  return JSON.parse(readFileSync(join(ARTIFACTS, `${name}.json`), "utf8")).abi;
}

function plain(value) {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

function namedArgs(fragment, args) {
  const named = {};
  fragment.inputs.forEach((input, index) => {
    named[input.name || String(index)] = plain(args[index]);
  });
  return named;
}

async function main() {
  const { values } = parseArgs({
    options: {
      rpc: { type: "string" },
      training: { type: "string" },
      accounts: { type: "string", default: "" },
      "from-block": { type: "string", default: "0" },
      events: { type: "string", default: "" },
    },
  });
  if (!values.rpc || !values.training) {
    throw new Error("give --rpc URL and --training ADDRESS");
  }
  const request = new FetchRequest(values.rpc);
  if (process.env.FEDCHAIN_SERVE_TOKEN) {
    request.setHeader("Authorization", `Bearer ${process.env.FEDCHAIN_SERVE_TOKEN}`);
  }
  const provider = new JsonRpcProvider(request);
  try {
    const network = await provider.getNetwork();
    const head = await provider.getBlockNumber();
    const training = new Contract(values.training, abiOf("FederatedTraining"), provider);
    const tokenAddress = await training.token();
    const token = new Contract(tokenAddress, abiOf("FedToken"), provider);
    const accounts = values.accounts.split(",").filter(Boolean);
    const balances = {};
    for (const account of accounts) {
      balances[account] = (await token.balanceOf(account)).toString();
    }
    const wanted = new Set(values.events.split(",").filter(Boolean));
    const iface = new Interface(abiOf("FederatedTraining"));
    const logs = await provider.getLogs({
      address: values.training,
      fromBlock: Number(values["from-block"]),
      toBlock: head,
    });
    const events = [];
    for (const log of logs) {
      const parsed = iface.parseLog(log);
      if (parsed === null || (wanted.size && !wanted.has(parsed.name))) continue;
      events.push({
        name: parsed.name,
        blockNumber: log.blockNumber,
        logIndex: log.index,
        transactionHash: log.transactionHash,
        args: namedArgs(parsed.fragment, parsed.args),
      });
    }
    const output = {
      chainId: network.chainId.toString(),
      blockNumber: head,
      token: {
        address: tokenAddress,
        symbol: await token.symbol(),
        decimals: Number(await token.decimals()),
        totalSupply: (await token.totalSupply()).toString(),
        balances,
      },
      events,
    };
    process.stdout.write(JSON.stringify(output) + "\n");
  } finally {
    provider.destroy();
  }
}

main().catch((error) => {
  process.stderr.write(`error: ${error.shortMessage ?? error.message}\n`);
  process.exit(1);
});
