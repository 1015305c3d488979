import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOffer, isHold, MAX_SDP_BYTES } from './sip-offer.js';
import { carrierSdp } from './testing/fake-drachtio.js';

describe('a caller’s offer, before anything reaches FreeSWITCH', () => {
  const sdp = 'application/sdp';

  it('takes PCMA or PCMU, by name or static payload type, and a late offer without a body', () => {
    assert.deepEqual(checkOffer(sdp, carrierSdp()), { ok: true, held: false });
    assert.deepEqual(checkOffer('application/SDP; charset=utf-8', carrierSdp({ codecs: '0' })), {
      ok: true,
      held: false,
    });
    assert.deepEqual(checkOffer(undefined, ''), { ok: true, held: false });
  });

  it('names the cause of a refusal: 415 for a body not SDP, 488 with the Warning code otherwise', () => {
    assert.deepEqual(checkOffer('text/plain', 'hello'), {
      ok: false,
      status: 415,
      reason: 'Unsupported Media Type',
      headers: { Accept: 'application/sdp' },
    });
    const warning = (body: string) => {
      const v = checkOffer(sdp, body);
      assert.ok(!v.ok && v.status === 488, body.slice(0, 40));
      return v.headers.Warning ?? '';
    };
    assert.match(warning(carrierSdp({ codecs: '18' })), /^305 /);
    assert.match(warning('v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n'), /^304 /);
    assert.match(warning('not sdp at all'), /^399 otklik "Malformed SDP"$/);
    const big = carrierSdp().replace('a=sendrecv', `a=x-pad:${'z'.repeat(MAX_SDP_BYTES)}\r\na=sendrecv`);
    assert.match(warning(big), /^399 otklik "SDP too large/);
  });

  it('reads hold from sendonly, inactive or a 0.0.0.0 address, and unhold from sendrecv', () => {
    assert.equal(isHold(carrierSdp({ direction: 'sendonly' })), true);
    assert.equal(isHold(carrierSdp({ direction: 'inactive' })), true);
    assert.equal(isHold(carrierSdp({ address: '0.0.0.0' })), true);
    assert.equal(isHold(carrierSdp({ direction: 'recvonly' })), false);
    assert.equal(isHold(carrierSdp()), false);
  });
});
