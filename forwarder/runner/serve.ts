import { config as loadDotenv } from 'dotenv';
import { parseRunnerConfig } from '../../shared/config.js';
import { startRunner, type BuiltWorkflow } from './server.js';

/**
 * `npm run forwarder`: the Pipedream workflow of pipedream.yaml, served on this machine until SIGINT or SIGTERM.
 * Exit codes, as the sink's: 2 configuration error, 1 could not start (port taken, address unusable).
 * `built` is the workflow the runner's bundle carries (scripts/build-forwarder.ts); without it the steps are
 * imported from their TypeScript sources (main.ts, under tsx).
 */
export async function serveFromCommandLine(built?: BuiltWorkflow): Promise<void> {
  loadDotenv({ quiet: true });

  const config = parseRunnerConfig(process.env);
  if (!config.ok) {
    console.error(config.message);
    process.exit(2);
  }

  const runner = await startRunner(config.value, process.env, built ? { built } : {}).catch((err: unknown) => {
    console.error(`forwarder: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
  console.log(`listening on ${runner.url}`);

  const stop = () => {
    runner.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
