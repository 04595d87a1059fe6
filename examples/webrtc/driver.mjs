// driver.mjs: Debian's Chromium (headless, driven by playwright-core) against examples/webrtc.
//
// node driver.mjs --endpoint PATH --setup active|passive [--pqc on|off]
//                 [--mode ok|wrong-fingerprint] [--profiles LIST] [--dir DIR]
//                 [--min-packets N]
//
// The page (page.html) makes an offer with a fake-device audio track and waits for ICE
// gathering to complete; this script starts the endpoint (SDTLS_SETUP, SDTLS_MEDIA=audio,
// SDTLS_ADDR=127.0.0.1), writes the offer to its stdin (one line per line, then an empty line),
// reads the answer from its stdout and gives it to the page. Once the page is done, the
// endpoint's stdin is closed and its "RESULT {json}" line is compared with the browser's
// getStats(). Prints one line per check; exit status 0 when all passed.
//
// Files in DIR (default: a fresh temporary directory): endpoint.err (the endpoint's log),
// endpoint.out (answer and RESULT), browser.log (page console), result.json (everything),
// profile/ (the browser's fresh --user-data-dir).
//
// Never downloads a browser: executablePath is /usr/bin/chromium (CHROMIUM overrides it).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const o = { setup: 'passive', pqc: 'on', mode: 'ok', minPackets: 50, profiles: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--endpoint') o.endpoint = v();
    else if (a === '--setup') o.setup = v();
    else if (a === '--pqc') o.pqc = v();
    else if (a === '--mode') o.mode = v();
    else if (a === '--profiles') o.profiles = v();
    else if (a === '--dir') o.dir = v();
    else if (a === '--min-packets') o.minPackets = Number(v());
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.endpoint) throw new Error('--endpoint PATH is required');
  if (!['active', 'passive'].includes(o.setup)) throw new Error('--setup active|passive');
  if (!['on', 'off'].includes(o.pqc)) throw new Error('--pqc on|off');
  if (!['ok', 'wrong-fingerprint'].includes(o.mode)) throw new Error('--mode ok|wrong-fingerprint');
  o.dir = o.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'sdtls-webrtc-'));
  fs.mkdirSync(o.dir, { recursive: true });
  return o;
}

// The RFC 4568/7714 crypto-suite names of the RFC 5764 protection profiles.
const SRTP_STATS_NAME = {
  SRTP_AES128_CM_HMAC_SHA1_80: 'AES_CM_128_HMAC_SHA1_80',
  SRTP_AES128_CM_HMAC_SHA1_32: 'AES_CM_128_HMAC_SHA1_32',
  SRTP_AEAD_AES_128_GCM: 'AEAD_AES_128_GCM',
  SRTP_AEAD_AES_256_GCM: 'AEAD_AES_256_GCM',
};
// 2 * (key + salt) bytes of EXTRACTOR-dtls_srtp keying material (RFC 5764 4.2, RFC 7714 12).
const SRTP_MATERIAL_LEN = {
  SRTP_AES128_CM_HMAC_SHA1_80: 60,
  SRTP_AES128_CM_HMAC_SHA1_32: 60,
  SRTP_AEAD_AES_128_GCM: 56,
  SRTP_AEAD_AES_256_GCM: 88,
};

// Replace the hex of every a=fingerprint line with a different value of the same length.
function mangleFingerprint(sdp) {
  return sdp.replace(/^(a=fingerprint:\S+ )([0-9A-Fa-f:]+)/mg, (m, head, hex) =>
    head + hex.replace(/[0-9A-Fa-f]/g, (c) => ((parseInt(c, 16) + 1) % 16).toString(16).toUpperCase()));
}

class Endpoint {
  constructor(o) {
    this.o = o;
    this.stdoutLines = [];
    this.waiters = [];
    this.exited = null;
    this.err = fs.createWriteStream(path.join(o.dir, 'endpoint.err'));
    this.out = fs.createWriteStream(path.join(o.dir, 'endpoint.out'));
  }

  start() {
    const env = { ...process.env, SDTLS_SETUP: this.o.setup, SDTLS_MEDIA: 'audio',
      SDTLS_ADDR: '127.0.0.1' };
    if (this.o.profiles) env.SDTLS_SRTP_PROFILES = this.o.profiles;
    this.proc = spawn(this.o.endpoint, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.pipe(this.err);
    let partial = '';
    this.proc.stdout.on('data', (chunk) => {
      this.out.write(chunk);
      partial += chunk.toString('utf8');
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        this.stdoutLines.push(partial.slice(0, nl).replace(/\r$/, ''));
        partial = partial.slice(nl + 1);
      }
      this.wake();
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = { code, signal, at: Date.now() };
      this.wake();
    });
    this.proc.stdin.on('error', () => {}); // EPIPE if it died: reported through `exited`
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  async waitLines(pred, ms, what) {
    const end = Date.now() + ms;
    while (!pred(this.stdoutLines)) {
      if (this.exited) throw new Error(`endpoint exited (${JSON.stringify(this.exited)}) before ${what}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`endpoint: no ${what} within ${ms} ms`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  // Offer in (one line per line, then an empty line); answer out (up to its empty line).
  async answer(offerSdp) {
    const lines = offerSdp.split(/\r?\n/).filter((l) => l.length > 0);
    const t = Date.now();
    this.proc.stdin.write(lines.join('\n') + '\n\n');
    await this.waitLines((ls) => ls.some((l, i) => l === '' && i > 0), 10000, 'answer');
    this.answerMs = Date.now() - t;
    const end = this.stdoutLines.indexOf('');
    return this.stdoutLines.slice(0, end).join('\r\n') + '\r\n';
  }

  // End of input means stop: RESULT and exit 0 within 5 s.
  async stop() {
    const t = Date.now();
    this.proc.stdin.end();
    const limit = 5000;
    if (!this.exited) {
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), limit + 2000);
      await once(this.proc, 'exit');
      clearTimeout(timer);
    }
    this.stopMs = this.exited.at - t;
    await new Promise((resolve) => this.out.end(resolve));
    await new Promise((resolve) => this.err.end(resolve));
    const results = this.stdoutLines.filter((l) => l.startsWith('RESULT '));
    return { results, exit: this.exited, stopMs: this.stopMs, limit };
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const browserLog = fs.createWriteStream(path.join(o.dir, 'browser.log'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--disable-background-networking', '--disable-component-update', '--no-first-run',
    '--disable-sync', '--disable-quic',
  ];
  if (o.pqc === 'off') args.push('--disable-features=WebRtcPqcForDtls');

  const endpoint = new Endpoint(o);
  const checks = [];
  const check = (name, ok, detail) => checks.push({ name, ok: !!ok, detail: String(detail) });
  let page_result = null;
  let context = null;
  let failure = null;
  const t0 = Date.now();
  const timing = {};
  const mark = (what) => { timing[what] = Date.now() - t0; };
  try {
    const profile = path.join(o.dir, 'profile');
    fs.rmSync(profile, { recursive: true, force: true });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args,
      timeout: 30000,
    });
    mark('launched');
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => browserLog.write(`${m.type()}: ${m.text()}\n`));
    page.on('pageerror', (e) => browserLog.write(`pageerror: ${e.message}\n`));
    endpoint.start();
    await page.exposeFunction('sdtlsAnswer', async (offer) => {
      const given = o.mode === 'wrong-fingerprint' ? mangleFingerprint(offer) : offer;
      fs.writeFileSync(path.join(o.dir, 'offer.sdp'), given);
      const answer = await endpoint.answer(given);
      fs.writeFileSync(path.join(o.dir, 'answer.sdp'), answer);
      return answer;
    });
    await page.goto(pathToFileURL(path.join(HERE, 'page.html')).href);
    mark('page_loaded');
    page_result = await page.evaluate((opts) => window.runTest(opts), {
      expect: o.mode === 'ok' ? 'connected' : 'failed',
      minPackets: o.minPackets,
      connectMs: o.mode === 'ok' ? 20000 : 8000,
      mediaMs: 20000,
    });
  } catch (e) {
    failure = e;
  }
  mark('page_done');
  const ep = endpoint.proc ? await endpoint.stop() : { results: [], exit: null };
  mark('endpoint_stopped');
  if (context) await context.close().catch(() => {});
  mark('browser_closed');
  await new Promise((resolve) => browserLog.end(resolve));

  let r = null;
  if (ep.results.length === 1) {
    try {
      r = JSON.parse(ep.results[0].slice('RESULT '.length));
    } catch (e) {
      check('RESULT line is JSON', false, e.message);
    }
  }
  const errLog = fs.existsSync(path.join(o.dir, 'endpoint.err'))
    ? fs.readFileSync(path.join(o.dir, 'endpoint.err'), 'utf8') : '';

  check('browser test ran', !failure, failure ? failure.message : 'ok');
  check('endpoint answered within 10 s', endpoint.answerMs !== undefined && endpoint.answerMs <= 10000,
    `${endpoint.answerMs} ms`);
  check('endpoint exited 0 within 5 s of end of input',
    ep.exit && ep.exit.code === 0 && ep.stopMs <= ep.limit,
    `exit ${JSON.stringify(ep.exit)} after ${ep.stopMs} ms`);
  check('exactly one RESULT line', ep.results.length === 1 && r, `${ep.results.length} lines`);
  const expectRole = o.setup === 'active' ? 'client' : 'server';
  const browserRole = o.setup === 'active' ? 'server' : 'client';
  const st = (page_result && page_result.stats) || {};
  const tr = st.transport || {};

  if (r && o.mode === 'ok') {
    check('browser connectionState connected', page_result && page_result.connectionState === 'connected',
      page_result && page_result.connectionState);
    check('browser DTLS transport connected', page_result && page_result.dtlsState === 'connected' &&
      tr.dtlsState === 'connected', `${page_result && page_result.dtlsState} / stats ${tr.dtlsState}`);
    check('endpoint dtls_connected', r.dtls_connected === true, r.dtls_connected);
    check('endpoint fingerprint_verified', r.fingerprint_verified === true, r.fingerprint_verified);
    check('dtls_version DTLS 1.2 (browser tlsVersion FEFD)',
      r.dtls_version === 'DTLS 1.2' && tr.tlsVersion === 'FEFD', `${r.dtls_version} / ${tr.tlsVersion}`);
    check(`endpoint dtls_role ${expectRole}, browser ${browserRole}`,
      r.dtls_role === expectRole && tr.dtlsRole === browserRole, `${r.dtls_role} / ${tr.dtlsRole}`);
    check('dtlsCipher matches', tr.dtlsCipher === r.dtls_cipher && !!r.dtls_cipher,
      `browser ${tr.dtlsCipher} / endpoint ${r.dtls_cipher}`);
    // Chromium 156 names the profile as RFC 5764 does; older versions used the crypto-suite
    // names of RFC 4568/7714. Either spelling of the endpoint's profile matches.
    check('srtpCipher matches', !!r.srtp_profile &&
      (tr.srtpCipher === r.srtp_profile || tr.srtpCipher === SRTP_STATS_NAME[r.srtp_profile]),
      `browser ${tr.srtpCipher} / endpoint ${r.srtp_profile}`);
    const matLen = SRTP_MATERIAL_LEN[r.srtp_profile];
    check('srtp_keying_material is 2*(key+salt) bytes of hex',
      matLen && new RegExp(`^[0-9a-f]{${2 * matLen}}$`).test(r.srtp_keying_material),
      `${(r.srtp_keying_material || '').length / 2} bytes for ${r.srtp_profile}`);
    if (o.profiles) {
      check('negotiated the only profile offered', o.profiles.split(/[:,]/).includes(r.srtp_profile),
        `${r.srtp_profile} from ${o.profiles}`);
    }
    check(`endpoint authenticated >= ${o.minPackets} SRTP packets, none failed`,
      r.srtp_rx_ok >= o.minPackets && r.srtp_rx_fail === 0,
      `srtp_rx_ok ${r.srtp_rx_ok}, srtp_rx_fail ${r.srtp_rx_fail}`);
    const got = st.inbound ? st.inbound.packetsReceived : 0;
    check(`browser received >= ${o.minPackets} packets from the endpoint`, got >= o.minPackets,
      `packetsReceived ${got}, endpoint srtp_tx ${r.srtp_tx}`);
    if (o.setup === 'passive') {
      // Chromium's post-quantum ClientHello (X25519MLKEM768 key share) is about 1.4 KB, in two
      // fragments; without it the ClientHello fits one datagram.
      const big = r.client_hello_len > 1200;
      check(`ClientHello ${o.pqc === 'on' ? 'post-quantum (fragmented, > 1200 bytes)' : 'classic (<= 1200 bytes)'}`,
        o.pqc === 'on' ? big : r.client_hello_len > 0 && !big, `${r.client_hello_len} bytes`);
    }
  } else if (r) {
    check('endpoint dtls_connected false', r.dtls_connected === false, r.dtls_connected);
    check('endpoint fingerprint_verified false', r.fingerprint_verified === false, r.fingerprint_verified);
    check('nothing decrypted', r.srtp_rx_ok === 0 && r.srtp_tx === 0,
      `srtp_rx_ok ${r.srtp_rx_ok}, srtp_tx ${r.srtp_tx}`);
    check('clear error on stderr', /does not match the offer's a=fingerprint/.test(errLog),
      (errLog.match(/^webrtc: error: .*$/m) || ['(no "webrtc: error:" line)'])[0]);
    check('browser DTLS transport not connected', !page_result || page_result.dtlsState !== 'connected',
      page_result && page_result.dtlsState);
  }

  const summary = { options: o, ms: Date.now() - t0, checks, endpoint: r, browser: page_result,
    answerMs: endpoint.answerMs, stopMs: ep.stopMs, timing };
  fs.writeFileSync(path.join(o.dir, 'result.json'), JSON.stringify(summary, null, 2));
  let ok = true;
  for (const c of checks) {
    console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    ok = ok && c.ok;
  }
  if (r) {
    console.log(`endpoint: ${r.dtls_role} ${r.dtls_cipher || '-'} ${r.srtp_profile || '-'} ` +
      `rx_ok=${r.srtp_rx_ok} rx_fail=${r.srtp_rx_fail} tx=${r.srtp_tx} ch=${r.client_hello_len}`);
  }
  console.log(`timing (ms since start): ${JSON.stringify(timing)}`);
  console.log(`${ok ? 'PASS' : 'FAIL'} (${Date.now() - t0} ms, files in ${o.dir})`);
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(`driver: ${e.stack || e}`);
  process.exit(2);
});
