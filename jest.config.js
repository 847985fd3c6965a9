/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.test.ts"],
    // The VM test boots three QEMU guests (minutes): `npm run test:vm`, not `npm test`.
    testPathIgnorePatterns: ["/node_modules/", "/tests/vm/"],
    // Type errors are caught once by `tsc --noEmit` in `npm test`; tsconfig's isolatedModules makes ts-jest transpile only, which keeps jest fast.
    transform: { "^.+\\.ts$": "ts-jest" },
    testTimeout: 30000,
};
