import { serveFromCommandLine } from './serve.js';

// The runner from its TypeScript sources: `node --import tsx forwarder/runner/main.ts` (the tests start it so).
// `npm run forwarder` runs the same from one bundled file, dist/forwarder/main.mjs (scripts/build-forwarder.ts).
await serveFromCommandLine();
