import { describe, expect, it } from '@jest/globals';
import { checkEnvNames, editDistance, suggestName } from '../../shared/env-names.js';

describe('suggestName', () => {
  it.each([
    ['SINK_PASWORD', 'SINK_BASIC_AUTH_PASS'],
    ['SINK_USER', 'SINK_BASIC_AUTH_USER'],
    ['SINK_PROT', 'SINK_PORT'],
    ['sink_port', 'SINK_PORT'],
    ['UP42_WEBHOK_SECRET', 'UP42_WEBHOOK_SECRET'],
    ['FORWARD_PARK_DELAY', 'FORWARD_PARK_DELAYS'],
    ['WORKER_DATADIR', 'WORKER_DATA_DIR'],
    // An alias of the article, mistyped: the suggestion is the variable's own name.
    ['ngrok_basic_auth_usr', 'SINK_BASIC_AUTH_USER'],
  ])('%s: did you mean %s', (typed, meant) => {
    expect(suggestName(typed)).toBe(meant);
  });

  it('suggests nothing for a name unlike all of ours', () => {
    expect(suggestName('PIPEDREAM')).toBeNull();
    expect(suggestName('FOO')).toBeNull();
  });

  it('measures the edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('checkEnvNames', () => {
  it('stops on names in .env that are not ours, with the suggestion', () => {
    expect(checkEnvNames(['SINK_PASWORD', 'SINK_PORT', 'ngrok_basic_auth_user', 'FOO'], []).errors).toEqual([
      'unknown variable SINK_PASWORD in .env: did you mean SINK_BASIC_AUTH_PASS?',
      'unknown variable FOO in .env',
    ]);
  });

  it("lets .env hold libpq's, Node's, ngrok's, proxy and hook variables", () => {
    const allowed = ['PGHOST', 'PGSSLMODE', 'NODE_OPTIONS', 'NGROK_CONFIG', 'HTTPS_PROXY', 'TZ', 'HOOK_WEBHOOK_URL'];
    expect(checkEnvNames(allowed, [])).toEqual({ errors: [], warnings: [] });
  });

  it('warns about names in the environment that look like ours, and about no other', () => {
    const env = [
      'SINK_USR',
      'FORWARDER_ULR',
      'FORWARDER_URL',
      'is_tst',
      'NGROK_CONFIG',
      'PATH',
      'HOME',
      'UP42_WEBHOOK_SECRET',
      'is_test',
    ];
    expect(checkEnvNames([], env)).toEqual({
      errors: [],
      warnings: [
        'unknown variable SINK_USR in the environment: did you mean SINK_BASIC_AUTH_USER?',
        'unknown variable FORWARDER_ULR in the environment: did you mean FORWARDER_URL?',
        'unknown variable is_tst in the environment: did you mean UP42_TEST_MODE?',
      ],
    });
  });
});
