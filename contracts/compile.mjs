#!/usr/bin/env node
// Compiles contracts/*.sol with the pinned solcjs and writes one artifact per deployable contract
// to fedchain_magics/chain/artifacts/<ContractName>.json.
//
//   node compile.mjs           write the artifacts
//   node compile.mjs --check   compile in memory; exit 1 naming every artifact that differs from
//                              the one on disk (missing, stale or changed)
//
// Artifacts are byte-reproducible: fixed key order, 2-space indent, trailing newline.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import solc from "solc";

const SOLC_VERSION = "0.8.30";
const EVM_VERSION = "prague";
const OPTIMIZER_RUNS = 200;
// Through the IR pipeline: FederatedTraining is 18.6 KB instead of 23.0 KB (EIP-170 allows 24.6 KB).
const VIA_IR = true;

const CONTRACTS_DIR = dirname(fileURLToPath(import.meta.url));
const NODE_MODULES = join(CONTRACTS_DIR, "node_modules");
const ARTIFACTS_DIR = resolve(CONTRACTS_DIR, "..", "fedchain_magics", "chain", "artifacts");

function fail(message) {
  console.error(`compile.mjs: ${message}`);
  process.exit(1);
}

function sha256Hex(text) {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Resolves `@openzeppelin/...` imports from node_modules; everything else is an error. */
function findImports(importPath) {
  if (importPath.startsWith("@openzeppelin/")) {
    const file = join(NODE_MODULES, importPath);
    if (existsSync(file)) {
      return { contents: readFileSync(file, "utf8") };
    }
    return { error: `${importPath} not found in ${NODE_MODULES} (run \`npm ci\` in contracts/)` };
  }
  return { error: `cannot resolve import ${importPath}: only @openzeppelin/ packages are installed` };
}

function readSources() {
  const names = readdirSync(CONTRACTS_DIR)
    .filter((name) => name.endsWith(".sol"))
    .sort();
  if (names.length === 0) {
    fail(`no .sol files in ${CONTRACTS_DIR}`);
  }
  const sources = {};
  for (const name of names) {
    sources[name] = { content: readFileSync(join(CONTRACTS_DIR, name), "utf8") };
  }
  return sources;
}

function compile(sources) {
  if (!solc.version().startsWith(`${SOLC_VERSION}+`)) {
    fail(`solc ${solc.version()} is installed, ${SOLC_VERSION} is pinned (run \`npm ci\` in contracts/)`);
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      evmVersion: EVM_VERSION,
      viaIR: VIA_IR,
      outputSelection: {
        "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const messages = output.errors ?? [];
  for (const message of messages) {
    console.error(message.formattedMessage ?? message.message);
  }
  const errors = messages.filter((message) => message.severity === "error");
  if (errors.length > 0) {
    fail(`${errors.length} compiler error(s)`);
  }
  return output;
}

/** Renders the artifact of every deployable contract defined in our own sources. */
function renderArtifacts(sources, output) {
  const artifacts = new Map();
  for (const sourceName of Object.keys(sources).sort()) {
    const contracts = output.contracts?.[sourceName] ?? {};
    for (const contractName of Object.keys(contracts).sort()) {
      const { abi, evm } = contracts[contractName];
      if (!evm.bytecode.object) {
        continue; // interfaces and abstract contracts cannot be deployed
      }
      if (artifacts.has(contractName)) {
        fail(`contract name ${contractName} is defined twice`);
      }
      const artifact = {
        contractName,
        abi,
        bytecode: `0x${evm.bytecode.object}`,
        deployedBytecode: `0x${evm.deployedBytecode.object}`,
        sourceHash: sha256Hex(sources[sourceName].content),
        compiler: { solc: SOLC_VERSION, evmVersion: EVM_VERSION, optimizerRuns: OPTIMIZER_RUNS, viaIR: VIA_IR },
      };
      artifacts.set(`${contractName}.json`, `${JSON.stringify(artifact, null, 2)}\n`);
    }
  }
  return artifacts;
}

function existingArtifactNames() {
  if (!existsSync(ARTIFACTS_DIR)) {
    return [];
  }
  return readdirSync(ARTIFACTS_DIR).filter((name) => name.endsWith(".json"));
}

function check(artifacts) {
  const differing = [];
  for (const [fileName, text] of artifacts) {
    const path = join(ARTIFACTS_DIR, fileName);
    if (!existsSync(path)) {
      differing.push(`${fileName} (missing)`);
    } else if (readFileSync(path, "utf8") !== text) {
      differing.push(`${fileName} (differs from a fresh compile)`);
    }
  }
  for (const fileName of existingArtifactNames()) {
    if (!artifacts.has(fileName)) {
      differing.push(`${fileName} (stale: no contract of that name in contracts/)`);
    }
  }
  if (differing.length > 0) {
    console.error("compile.mjs --check: artifacts out of date; run `make contracts` (or `node compile.mjs` in contracts/):");
    for (const entry of differing) {
      console.error(`  ${entry}`);
    }
    process.exit(1);
  }
  console.log(`compile.mjs --check: ${artifacts.size} artifacts up to date`);
}

function write(artifacts) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const [fileName, text] of artifacts) {
    writeFileSync(join(ARTIFACTS_DIR, fileName), text);
    console.log(`wrote ${join(ARTIFACTS_DIR, fileName)}`);
  }
  for (const fileName of existingArtifactNames()) {
    if (!artifacts.has(fileName)) {
      console.error(`warning: ${fileName} matches no contract; delete it if it is a stale artifact`);
    }
  }
}

function main(argv) {
  const unknown = argv.filter((arg) => arg !== "--check");
  if (unknown.length > 0) {
    fail(`unknown argument(s) ${unknown.join(" ")}; usage: node compile.mjs [--check]`);
  }
  const sources = readSources();
  const artifacts = renderArtifacts(sources, compile(sources));
  if (argv.includes("--check")) {
    check(artifacts);
  } else {
    write(artifacts);
  }
}

main(process.argv.slice(2));
