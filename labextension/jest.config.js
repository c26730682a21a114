/**
 * Unit tests for the sidebar's model, message parser and views (jsdom).
 * The message fixtures are also validated against
 * ../fedchain_magics/sidebar/message_schema.json with ajv, and the formatter
 * against ../fedchain_magics/sidebar/token_amount_cases.json.
 */
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testRegex: 'src/.*/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  setupFiles: ['<rootDir>/jest.setup.js'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  collectCoverageFrom: [
    'src/**/*.ts',
    '!src/**/*.d.ts',
    '!src/**/__tests__/**',
    // Generated from message_schema.json; schema.spec.ts checks it against the schema.
    '!src/generated/**',
    // Wiring into a running JupyterLab: covered by tests/ui in the repository root.
    '!src/index.ts',
    '!src/icon.ts',
    '!src/panel.ts'
  ],
  coverageReporters: ['lcov', 'text'],
  reporters: ['default']
};
