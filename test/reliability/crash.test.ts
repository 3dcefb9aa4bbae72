import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSink, tempDir } from '../sink/sink-support.js';
import {
  checkDump,
  fetchEnvelopeDump,
  freePort,
  LONG,
  prng,
  runLoad,
  seedFromEnv,
  sleep,
  type Sent,
} from './support.js';

// Crash safety with real processes: the sink is killed with SIGKILL at random moments while 20 clients post
// webhooks, restarted on the same port and data directory, and its dump checked against what every client was
// told. `npm test` runs 10 cycles; `npm run test:reliability` runs 200 (RELIABILITY_CYCLES overrides both).
// The kill delays come from a seeded PRNG: RELIABILITY_SEED=<printed seed> replays a run's schedule.

const CYCLES = Number(process.env.RELIABILITY_CYCLES ?? (LONG ? 200 : 10));
const CLIENTS = 20;

let data: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  data = await tempDir();
});
afterAll(async () => {
  await data.remove();
});

/** messageId -> body and the key a 200 reported (null: never acknowledged). */
type Ledger = Map<string, { body: string; key: number | null }>;

describe(`SIGKILL at random moments under load (${CYCLES} cycles)`, () => {
  it(
    'keeps every acknowledged webhook with its key and bytes, keys gapless, unanswered ones stored once or not at all',
    async () => {
      const seed = seedFromEnv();
      // Printed so a failing schedule can be replayed with RELIABILITY_SEED.
      process.stdout.write(`crash test seed: ${seed} (RELIABILITY_SEED=${seed} replays it)\n`);
      const rand = prng(seed);
      const port = await freePort();
      const vars = { SINK_PORT: String(port), SINK_DATA_DIR: data.dir };
      const ledger: Ledger = new Map();
      let unanswered: Sent[] = [];
      let acknowledged = 0;
      let cut = 0;

      for (let cycle = 1; cycle <= CYCLES + 1; cycle++) {
        const sink = await spawnSink(vars);
        try {
          // Opens without manual repair: a torn last record may be cut (it was never acknowledged), but nothing
          // intact is ever set aside.
          expect(sink.stderr()).not.toMatch(/damaged|WARNING/);
          const records = await fetchEnvelopeDump(sink.url);
          const problems = checkDump(records, ledger);
          if (problems.length > 0) throw new Error(`cycle ${cycle} (seed ${seed}): ${problems.join('; ')}`);
          if (cycle > CYCLES) break;

          // Some of the requests left without an answer are sent again, as the forwarder would retry them.
          const retry = unanswered.filter(() => rand() < 0.5);
          const load = runLoad({ base: sink.url, clients: CLIENTS, rand, tag: `c${cycle}`, retry });
          await sleep(30 + Math.floor(rand() * 400));
          sink.child.kill('SIGKILL');
          await sink.stop();
          const log = await load.stop();

          unanswered = unanswered.filter((s) => !retry.includes(s));
          for (const { sent, outcome } of log.results) {
            const entry = ledger.get(sent.id);
            if (outcome.kind === 'stored' || outcome.kind === 'duplicate') {
              acknowledged += 1;
              if (entry?.key != null && entry.key !== outcome.key) {
                throw new Error(`cycle ${cycle} (seed ${seed}): ${sent.id} was acknowledged as ${entry.key}, then as ${outcome.key}`);
              }
              ledger.set(sent.id, { body: sent.body, key: outcome.key });
            } else if (outcome.kind === 'no-reply') {
              cut += 1;
              if (entry === undefined) ledger.set(sent.id, { body: sent.body, key: null });
              if (entry?.key == null) unanswered.push(sent);
            } else {
              throw new Error(`cycle ${cycle} (seed ${seed}): ${sent.id} got ${outcome.status} ${outcome.text}`);
            }
          }
        } finally {
          await sink.stop('SIGKILL');
        }
      }
      process.stdout.write(`crash test: ${CYCLES} kills, ${acknowledged} acknowledged, ${cut} cut off, seed ${seed}\n`);
      // The load really ran: webhooks were acknowledged and the kills really cut requests off.
      expect(acknowledged).toBeGreaterThan(CYCLES);
      expect(cut).toBeGreaterThan(0);
    },
    CYCLES * 20_000 + 30_000,
  );
});
