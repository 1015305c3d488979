import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { admit } from './app.js';
import { MEDIA_HOLD_TIMEOUT_MS, MEDIA_TIMEOUT_MS } from './fsmrf.js';

/** The shipped FreeSWITCH and drachtio configuration, checked with xmllint as FreeSWITCH would read it. */
const root = new URL('.', import.meta.url).pathname;
/** FreeSWITCH's reference to the SIP header X-esl-outbound (its `${…}` syntax, not a JS template). */
const ESL_OUTBOUND = '$' + '{sip_h_X-esl-outbound}';
const xmllint = spawnSync('xmllint', ['--version']).status === 0;
const noXmllint = xmllint ? false : 'xmllint is not installed (Debian package libxml2-utils)';

function xmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? xmlFiles(path) : name.endsWith('.xml') ? [path] : [];
  });
}

function xpath(file: string, expr: string): string {
  const r = spawnSync('xmllint', ['--xpath', expr, join(root, file)], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${file}: ${expr}: ${r.stderr}`);
  return r.stdout.trim();
}

describe('shipped FreeSWITCH and drachtio configuration', { skip: noXmllint }, () => {
  it('is well-formed XML, every file', () => {
    const files = [...xmlFiles(join(root, 'freeswitch')), ...xmlFiles(join(root, 'drachtio'))];
    assert.ok(files.length >= 9);
    for (const f of files) {
      const r = spawnSync('xmllint', ['--noout', f], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${relative(root, f)}: ${r.stderr}`);
    }
  });

  it('has no X-PRE-PROCESS line inside a comment (FreeSWITCH runs them there too)', () => {
    // A "commented-out" rtp_secure_media_inbound=mandatory once made every live call fail with 488.
    for (const f of xmlFiles(join(root, 'freeswitch'))) {
      const comments = readFileSync(f, 'utf8').match(/<!--[\s\S]*?-->/g) ?? [];
      for (const c of comments)
        assert.doesNotMatch(c, /X-PRE-PROCESS/, `${relative(root, f)}: ${c.slice(0, 80)}`);
    }
  });

  it('listens for the event socket on 127.0.0.1:8021 only', () => {
    const f = 'freeswitch/autoload_configs/event_socket.conf.xml';
    assert.equal(xpath(f, 'string(//param[@name="listen-ip"]/@value)'), '127.0.0.1');
    assert.equal(xpath(f, 'string(//param[@name="listen-port"]/@value)'), '8021');
  });

  it('loads mod_audio_fork, the event socket and sofia', () => {
    const f = 'freeswitch/autoload_configs/modules.conf.xml';
    for (const m of ['mod_audio_fork', 'mod_event_socket', 'mod_sofia', 'mod_sndfile', 'mod_commands']) {
      assert.equal(xpath(f, `count(//load[@module="${m}"])`), '1', m);
    }
  });

  it('hands drachtio-fsmrf calls to its event socket (socket … async full) in the profile’s context', () => {
    const profile = 'freeswitch/sip_profiles/drachtio_mrf.xml';
    assert.equal(xpath(profile, 'string(/profile/@name)'), 'drachtio_mrf');
    const context = xpath(profile, 'string(//param[@name="context"]/@value)');
    const plan = 'freeswitch/dialplan/drachtio_mrf.xml';
    assert.equal(
      xpath(plan, `string(//context[@name="${context}"]//action[@application="socket"]/@data)`),
      `${ESL_OUTBOUND} async full`,
    );
    assert.equal(xpath(plan, `string(//context[@name="${context}"]//condition/@field)`), ESL_OUTBOUND);
  });

  it('has the carrier gateway that SIP_TRUNK=sofia/gateway/carrier names', () => {
    assert.equal(xpath('freeswitch/sip_profiles/external.xml', 'count(//gateway[@name="carrier"])'), '1');
  });

  it('uses media_timeout, not the rtp-timeout-sec params FreeSWITCH 1.10 deprecated', () => {
    for (const f of ['freeswitch/sip_profiles/drachtio_mrf.xml', 'freeswitch/sip_profiles/external.xml']) {
      assert.equal(
        xpath(f, 'count(//param[starts-with(@name, "rtp-") and contains(@name, "timeout")])'),
        '0',
        f,
      );
    }
    const plan = 'freeswitch/dialplan/drachtio_mrf.xml';
    // The values the app sets around a caller's hold (sip-inbound.ts) are the dialplan's.
    for (const v of [`media_timeout=${MEDIA_TIMEOUT_MS}`, `media_hold_timeout=${MEDIA_HOLD_TIMEOUT_MS}`])
      assert.equal(xpath(plan, `count(//action[@application="set" and @data="${v}"])`), '1', v);
  });

  it("keeps FreeSWITCH's own hold handling off, which would stop the recording while the caller holds", () => {
    const plan = 'freeswitch/dialplan/drachtio_mrf.xml';
    assert.equal(xpath(plan, 'count(//action[@application="set" and @data="rtp_disable_hold=true"])'), '1');
  });

  it('records every drachtio_mrf call in stereo at a fixed 8 kHz, on a soft RTP timer that reads through silence', () => {
    const plan = 'freeswitch/dialplan/drachtio_mrf.xml';
    for (const v of ['RECORD_STEREO=true', 'record_sample_rate=8000'])
      assert.equal(xpath(plan, `count(//action[@application="set" and @data="${v}"])`), '1', v);
    for (const f of ['freeswitch/sip_profiles/drachtio_mrf.xml', 'freeswitch/sip_profiles/external.xml'])
      assert.equal(xpath(f, 'string(//settings/param[@name="rtp-timer-name"]/@value)'), 'soft', f);
  });

  it('ships SIP over TLS for the carrier and the phones, off until otklik_sip_tls is true', () => {
    const vars = 'freeswitch/vars.xml';
    const setting = (name: string) =>
      xpath(vars, `string(//X-PRE-PROCESS[starts-with(@data, "${name}=")]/@data)`).slice(name.length + 1);
    assert.equal(setting('otklik_sip_tls'), 'false');
    assert.equal(setting('carrier_transport'), 'udp');
    assert.ok(setting('otklik_tls_cert_dir'));
    const profile = 'freeswitch/sip_profiles/external.xml';
    const param = (name: string) => xpath(profile, `string(//settings/param[@name="${name}"]/@value)`);
    assert.equal(param('tls'), '$${otklik_sip_tls}');
    assert.equal(param('tls-sip-port'), '$${otklik_sip_tls_port}');
    assert.equal(param('tls-cert-dir'), '$${otklik_tls_cert_dir}');
    assert.equal(param('tls-verify-policy'), '$${otklik_tls_verify}');
    assert.equal(
      xpath(profile, 'string(//gateway[@name="carrier"]/param[@name="register-transport"]/@value)'),
      '$${carrier_transport}',
    );
    // SRTP for every leg is one uncommented pair of lines in vars.xml (documented in telephony/README.md).
    const srtp = xpath(vars, 'string(//comment()[contains(., "rtp_secure_media_inbound")])');
    assert.match(srtp, /rtp_secure_media_outbound=mandatory:AES_CM_128_HMAC_SHA1_80/);
  });

  it('ships a drachtio-server configuration with SIP over TLS on 5061', () => {
    const f = 'drachtio/drachtio-tls.conf.xml';
    assert.equal(xpath(f, 'string(//contact[contains(., "transport=tls")])'), 'sips:*:5061;transport=tls');
    for (const file of ['key-file', 'cert-file', 'chain-file'])
      assert.ok(xpath(f, `string(//sip/tls/${file})`), file);
    assert.equal(xpath(f, 'string(/drachtio/admin)'), '127.0.0.1');
  });

  it('gives drachtio-server the admin socket otklik telephony connects to', () => {
    // <udp-mtu> has no effect in drachtio-server 0.9.10: not shipped, so nobody relies on it.
    assert.equal(xpath('drachtio/drachtio.conf.xml', 'count(//udp-mtu)'), '0');
    assert.equal(xpath('drachtio/drachtio.conf.xml', 'string(/drachtio/admin/@port)'), '9022');
    assert.equal(xpath('drachtio/drachtio.conf.xml', 'string(/drachtio/admin)'), '127.0.0.1');
  });
});

describe('INVITE admission', () => {
  it('takes calls to the served numbers only, and none while draining', () => {
    const numbers = ['122', '+7 (800) 200-01-22'];
    assert.deepEqual(admit({ accepting: true, calledNumber: '122', numbers }), { accept: true });
    assert.deepEqual(admit({ accepting: true, calledNumber: '78002000122', numbers }), { accept: true });
    assert.deepEqual(admit({ accepting: true, calledNumber: 'sip:122@10.0.0.1', numbers }), { accept: true });
    assert.equal(admit({ accepting: true, calledNumber: '112', numbers }).accept, false);
    // A number the KB lists with its flow (kb/numbers.ts) is served too, though not configured.
    assert.deepEqual(admit({ accepting: true, calledNumber: '117', numbers, listed: true }), {
      accept: true,
    });
    assert.equal(admit({ accepting: false, calledNumber: '117', numbers, listed: true }).accept, false);
    assert.deepEqual(admit({ accepting: false, calledNumber: '122', numbers }), {
      accept: false,
      status: 503,
      reason: 'Service Unavailable',
    });
  });
});
