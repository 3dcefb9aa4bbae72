import { config as loadDotenv } from 'dotenv';
import { parseRunnerConfig } from '../../shared/config.js';
import { startRunner } from './server.js';

// `npm run forwarder`: the Pipedream workflow of pipedream.yaml, served on this machine.
// Exit codes, as the sink's: 2 configuration error, 1 could not start (port taken, address unusable).
loadDotenv({ quiet: true });

const config = parseRunnerConfig(process.env);
if (!config.ok) {
  console.error(config.message);
  process.exit(2);
}

const runner = await startRunner(config.value, process.env).catch((err: unknown) => {
  console.error(`forwarder: cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
console.log(`listening on ${runner.url}`);

const stop = () => {
  runner.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
