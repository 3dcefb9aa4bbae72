// `npm run test:unit`: the pure and in-process tests, for everyday work (under 30 s on a laptop). No spawned
// process, no workerd, no PostgreSQL, no browser: test/architecture.test.ts checks that of every file listed.
// `npm test` still runs everything.
import base from './jest.config.js';

export const UNIT_TESTS = [
  'test/architecture.test.ts',
  'test/shared/*.test.ts',
  'test/forwarder/forward.test.ts',
  'test/forwarder/manifest.test.ts',
  'test/forwarder/sink-transport.test.ts',
  'test/forwarder/validate.test.ts',
  'test/sink/concurrency.test.ts',
  'test/sink/envelope.test.ts',
  'test/sink/events.test.ts',
  'test/sink/http.test.ts',
  'test/sink/http/node-internals.test.ts',
  'test/sink/inbox-format.test.ts',
  'test/sink/inbox-urls.test.ts',
  'test/sink/record.test.ts',
  'test/sink/signature.test.ts',
  'test/sink/units.test.ts',
  'test/scripts/up42-client.test.ts',
  'test/worker/outbox-plan.test.ts',
];

export default { ...base, testMatch: UNIT_TESTS.map((path) => `<rootDir>/${path}`) };
