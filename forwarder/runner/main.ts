import { config as loadDotenv } from 'dotenv';
import { parseRunnerConfig } from '../../shared/config.js';
import { startRunner } from './server.js';

// `npm run forwarder`: the Pipedream workflow of pipedream.yaml, served on this machine.
loadDotenv({ quiet: true });

const config = parseRunnerConfig(process.env);
if (!config.ok) {
  console.error(config.message);
  process.exit(1);
}

const runner = await startRunner(config.value, process.env);
console.log(`listening on ${runner.url}`);

const stop = () => {
  runner.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
