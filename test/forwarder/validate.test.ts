import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { parseValidateConfig } from '../../shared/config.js';
import { signedDeliveryHeaders } from '../../shared/signature.js';
import { decideDelivery } from '../../forwarder/validate.js';
import { event, nowSeconds } from './deliveries.js';

// A signed content digest is checked against the bytes received (bodyRaw, from steps.trigger.raw_event); a
// trigger without a raw event hands over the parsed body only, and the digest is then still checked, against
// the body as the forward step will send it.
const secret = 'validate-secret';
const config = (() => {
  const parsed = parseValidateConfig({ UP42_WEBHOOK_SECRET: secret });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
})();

function pipedreamDelivery(payload: unknown, sentBody = JSON.stringify(payload)) {
  const headers = signedDeliveryHeaders({ body: sentBody, secret, created: nowSeconds() });
  return { headers, body: payload };
}

describe('decideDelivery without a raw body (as on Pipedream)', () => {
  it('checks the signed digest against the body it will forward, and notifies when it matches', () => {
    const payload = event({ status: 'FAILED' });
    const decision = decideDelivery(pipedreamDelivery(payload), config, nowSeconds());
    expect(decision.action).toBe('notify');
    if (decision.action === 'notify') expect(decision.signature.digestChecked).toBe(true);
  });

  it('rejects a body altered after signing, though the signed headers are intact', () => {
    const payload = event({ status: 'FAILED' });
    const delivery = pipedreamDelivery(payload);
    const altered = { ...payload, body: { ...payload.body, status: 'SUCCEEDED' } };
    const decision = decideDelivery({ ...delivery, body: altered }, config, nowSeconds());
    expect(decision).toMatchObject({ action: 'reject', reason: 'digest-mismatch' });
  });

  it('prefers the raw body when the platform gives one', () => {
    const payload = event({ status: 'FAILED' });
    const pretty = JSON.stringify(payload, null, 2);
    const delivery = { ...pipedreamDelivery(payload, pretty), bodyRaw: pretty };
    expect(decideDelivery(delivery, config, nowSeconds()).action).toBe('notify');
    // The same pretty-printed delivery without its raw text cannot be checked byte for byte: fail closed.
    const { bodyRaw: _dropped, ...withoutRaw } = delivery;
    expect(decideDelivery(withoutRaw, config, nowSeconds())).toMatchObject({
      action: 'reject',
      reason: 'digest-mismatch',
    });
  });
});

describe('decideDelivery holds every host to the signature rule', () => {
  const weakDelivery = (payload: unknown) => {
    // A signature over content-type alone, made with node's HMAC here: valid, but it binds neither time nor body.
    const mac = createHmac('sha256', secret).update('application/json', 'utf8').digest('base64');
    const headers = {
      'content-type': 'application/json',
      signature: `up42-sig=${mac}`,
      'signature-input': `up42-sig=("content-type");created=${nowSeconds()}`,
    };
    return { headers, body: payload, bodyRaw: JSON.stringify(payload) };
  };

  it('rejects a weak signature as weak-signature by default', () => {
    const decision = decideDelivery(weakDelivery(event({ status: 'FAILED' })), config, nowSeconds());
    expect(decision).toMatchObject({ action: 'reject', reason: 'weak-signature' });
  });

  it('rejects a strong signature when there is no body at all to check its digest against', () => {
    const { headers } = pipedreamDelivery(event({ status: 'FAILED' }));
    const decision = decideDelivery({ headers, body: undefined }, config, nowSeconds());
    expect(decision).toMatchObject({ action: 'reject', reason: 'weak-signature' });
    if (decision.action === 'reject') expect(decision.message).toContain('no raw body');
  });

  it('notifies on a weak signature only with acceptWeakSignatures, and says it was weak', () => {
    const accepting = { ...config, acceptWeakSignatures: true };
    const decision = decideDelivery(weakDelivery(event({ status: 'FAILED' })), accepting, nowSeconds());
    expect(decision).toMatchObject({
      action: 'notify',
      signature: { weaknesses: expect.arrayContaining([expect.any(String)]) },
    });
  });
});
