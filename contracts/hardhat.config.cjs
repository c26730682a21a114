// A local JSON-RPC node for tests that prove the chain layer works against a real node:
// `npx hardhat node --hostname 127.0.0.1 --port PORT` (Hardhat's EVM ships inside the npm package).
module.exports = {
  networks: {
    hardhat: { hardfork: "prague", chainId: 31337 },
  },
};
