// What the browser tests share: a realname server of their own on loopback (SQLite, the
// sandbox bank), Debian's Chromium, staff with an authenticator, and `look`, which every page
// state passes through: axe-core at phone and desktop width (any serious or critical
// violation fails), no sideways scroll at 375 px, and a screenshot of each width under
// target/screenshots/.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const ROOT = resolve(import.meta.dirname, '..');
// A document expiry no clock of the walk reaches, fixed so that nothing reads the real date.
const FAR_EXPIRY = '2099-12-31';
export const BIN = process.env.REALNAME_BIN ?? join(ROOT, 'target', 'debug', 'realname');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'target', 'screenshots');
export const PASSWORD = 'correct horse battery';
export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1280, height: 900 };
export const RETURN_ORIGIN = 'https://pay.example.com';
/** The sandbox bank settles a deposit this long after it is paid (sandbox.settle_after), so a
 * page can be seen waiting for it; the tests move the clock on by as much. */
export const SETTLE_SECONDS = 600;

/** What is missing to run the browser tests; in CI nothing may be. */
export function missing() {
  const lacks = [BIN, CHROMIUM].filter((p) => !existsSync(p));
  if (lacks.length && process.env.CI) {
    throw new Error(`CI must run the browser tests; missing: ${lacks.join(', ')}`);
  }
  return lacks;
}

/**
 * A realname server with staff `staff` ([login, role]) and a test key for the clock; `lists`
 * ([source, file]) are imported with `realname screening import` before it starts.
 */
export async function startServer(staff, { lists = [] } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'realname-e2e-'));
  const cli = (args, input) => spawnSync(BIN, [...args, '--database', 'sqlite://e2e.db'], { cwd: dir, input });
  for (const [source, file] of lists) {
    const imported = cli(['screening', 'import', source, file]);
    assert.equal(imported.status, 0, String(imported.stderr));
  }
  const server = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--database', 'sqlite://e2e.db'], {
    cwd: dir,
    env: { ...process.env, REALNAME_PLATFORM_RETURN_ORIGINS: RETURN_ORIGIN, REALNAME_LIMITS_SESSIONS_PER_MINUTE: '1000',
      REALNAME_SANDBOX_SETTLE_AFTER: `${SETTLE_SECONDS}s`,
      // One reviewer's approval verifies unless a test asks for a second approver.
      REALNAME_REVIEW_SECOND_APPROVAL_SAMPLE: '0' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = await new Promise((ok, fail) => {
    createInterface({ input: server.stdout }).once('line', ok);
    server.once('exit', (code) => fail(new Error(`realname serve exited with ${code}`)));
  });
  const base = line.trim().split(' ').pop();
  const authenticators = {};
  for (const [login, role] of staff) {
    const added = cli(['staff', 'add', login, '--role', role], `${PASSWORD}\n`);
    assert.equal(added.status, 0, String(added.stderr));
    const uri = String(added.stdout).match(/otpauth:\/\/totp\/\S+/);
    assert.ok(uri, `staff add prints the second factor: ${added.stdout}`);
    authenticators[login] = authenticator(new URL(uri[0]).searchParams.get('secret'));
  }
  const made = cli(['apikey', 'create', 'clock', '--test']);
  assert.equal(made.status, 0, String(made.stderr));
  const clockKey = String(made.stdout).trim();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    base,
    browser,
    cli,
    authenticators,
    /** Moves the sandbox clock with a test key: only a test key or an admin may. */
    async advanceClock(seconds) {
      const res = await fetch(`${base}/v1/sandbox/clock/advance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clockKey}` },
        body: JSON.stringify({ seconds }),
      });
      assert.equal(res.status, 200);
    },
    async stop() {
      await browser.close();
      server.kill();
    },
  };
}

/**
 * What an authenticator app does with a base32 secret (RFC 6238: HMAC-SHA-1, 6 digits, 30 s):
 * each call answers the code of a step not used before, as the service accepts each once,
 * waiting for the next step when the three it accepts (one either side of now) are used.
 */
function authenticator(base32) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const codeOf = (step) => {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(step));
    const mac = createHmac('sha1', key).update(counter).digest();
    const offset = mac[mac.length - 1] & 15;
    return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
  };
  let last = -1;
  return async function next() {
    for (;;) {
      const seconds = Date.now() / 1000;
      const now = Math.floor(seconds / 30);
      const earliest = 30 - (seconds % 30) > 3 ? now - 1 : now;
      const step = Math.max(earliest, last + 1);
      if (step <= now + 1) {
        last = step;
        return codeOf(step);
      }
      await new Promise((ok) => setTimeout(ok, (30 - (seconds % 30)) * 1000 + 100));
    }
  };
}

/** The serious and critical axe-core violations of the page as it is, said in one line each. */
async function violations(page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

/** How many page states `look` has checked, for the closing figure. */
export const looked = { states: 0, axeRuns: 0 };

/**
 * Every page state the tests reach goes through here: axe-core at both widths, no page wider
 * than a 375 px phone, and a screenshot of each width.
 */
export async function look(page, name) {
  looked.states += 1;
  for (const [width, size] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(size);
    if (width === 'phone') {
      const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= inner, `${name}: ${scroll} px wide on a ${inner} px phone (${page.url()})`);
    }
    const found = await violations(page);
    looked.axeRuns += 1;
    assert.deepEqual(found, [], `${name} at ${width} width (${page.url()}): accessibility violations`);
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(PHONE);
}

// A small real PNG of a "document", so the reviewer's page shows it.
const DOCUMENT_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAKAAAABkCAIAAACO1KzYAAAA/0lEQVR42u3YsQ2AMAxFwQyWSVIzRMahps4Q7EJDnYoVoImMddKbwKffuNS2K3HFCQALsAALsAALsAADFmAlAb7uqcgBBgwYsAALsAALsAADBgz4FfAxzvVBBQwYMGDAgIMCt61nCrAFAwYMGDBgwIABAwYMGLAAA/bJ8smyYAsGDBgwYMCAAQMGDBgwYMCAAftk+WRZsAUDBgwYMGDAgAEDBgwYMGDAgH2yLNiCAQMGDBgwYMCAAQMGDBgwYMA+WT5ZFmzBgAEDBgw4ArAAC7AACzBgwIABAxZgARZgARZgwIABC7AAC7AACzDgL8D6dYABC7AAC7AAC7AAA1aaHntK9qMrwjp0AAAAAElFTkSuQmCC';
export const documentImage = () => ({ name: 'page.png', mimeType: 'image/png', buffer: Buffer.from(DOCUMENT_PNG, 'base64') });

/** The main form's own submit button (the language switch in the header is another). */
export const NEXT = '#page-form button[type=submit]';

/** Signs `login` of `rn`'s staff in on a new page of `context`, which lands on the queue. */
export async function staffLogin(rn, context, login, lang) {
  const desk = await context.newPage();
  await desk.goto(`${rn.base}/login`);
  await look(desk, `${lang}-staff-login`);
  await desk.fill('#login', login);
  await desk.fill('#password', PASSWORD);
  await desk.click('details.staff summary');
  await desk.fill('#totp', await rn.authenticators[login]());
  await desk.click(NEXT);
  await desk.waitForURL('**/review');
  return desk;
}

/** Fills the identity form; `person.kind` picks the proof of stay, and sends it. */
export async function fillIdentity(page, person) {
  await page.fill('#real_name', person.name ?? 'John Smith');
  await page.fill('#nationality', person.nationality ?? 'United States');
  await page.fill('#date_of_birth', '1990-05-17');
  await page.fill('#phone', person.phone ?? '13800138000');
  if (person.kind === 'permanent_residence_card') {
    await page.check('#kind-permanent_residence_card');
    assert.ok(!(await page.isVisible('#passport_number')), 'a card holder is not asked for a passport');
    assert.ok(!(await page.isVisible('#entry_date')), 'nor for an entry date');
    await page.fill('#stay_number', person.card ?? 'USA110000000001');
    await page.fill('#stay_expiry', FAR_EXPIRY);
  } else {
    await page.check('#kind-entry_record');
    assert.ok(!(await page.isVisible('#stay_number')), 'an entry record has no number to ask for');
    await page.fill('#entry_date', '2026-01-10');
    await page.fill('#passport_number', person.passport);
    await page.fill('#passport_expiry', FAR_EXPIRY);
  }
  await page.check(`#sex-${person.sex ?? 'male'}`);
  await page.selectOption('#occupation', person.occupation ?? 'office_worker');
  await page.fill('#address', person.address ?? 'Room 1201, 88 Jianguo Road, Chaoyang, Beijing');
  await page.check(person.pep ? '#pep-yes' : '#pep-no');
  if (person.pep) await page.fill('#pep_role', person.pep);
  if (await page.isVisible('#consent')) await page.check('#consent');
}

/** Fills the identity form with `person` and the documents: answers on the card step. */
export async function toCardStep(rn, page, person) {
  await page.goto(`${rn.base}/verifications/new`);
  await fillIdentity(page, person);
  await page.click(NEXT);
  await page.waitForURL('**/documents');
  await page.setInputFiles('#passport_photo_page', documentImage());
  await page.setInputFiles('#stay_permit', documentImage());
  await page.click(NEXT);
  await page.waitForURL('**/bank_card');
}

/** Reads the deposit off the sandbox bank's statement. */
export async function depositOf(page, base, card) {
  await page.goto(`${base}/sandbox/statement?card_number=${card}`);
  return (await page.textContent('td.amount')).replace('+', '').split(' ')[0];
}
