// Walks a user from registration to "verified" and a reviewer through claim and decision in
// headless Chromium, in English and in Chinese, at phone and desktop widths, saving a
// screenshot of every page under target/screenshots/. A platform's user arrives by a one-time
// link instead, walks to "verified" the same way and is offered the way back to the platform.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = process.env.REALNAME_BIN ?? join(ROOT, 'target', 'debug', 'realname');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'target', 'screenshots');
const PASSWORD = 'correct horse battery';
const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 900 };
const RETURN_ORIGIN = 'https://pay.example.com';

let server;
let base;
let browser;
let dir;
let clockKey;

function missing() {
  const lacks = [BIN, CHROMIUM].filter((p) => !existsSync(p));
  if (lacks.length && process.env.CI) {
    throw new Error(`CI must run the browser tests; missing: ${lacks.join(', ')}`);
  }
  return lacks;
}

before(async () => {
  if (missing().length) return;
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'realname-e2e-'));
  server = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--database', 'sqlite://e2e.db'], {
    cwd: dir,
    env: { ...process.env, REALNAME_PLATFORM_RETURN_ORIGINS: RETURN_ORIGIN, REALNAME_LIMITS_SESSIONS_PER_MINUTE: '1000' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = await new Promise((ok, fail) => {
    createInterface({ input: server.stdout }).once('line', ok);
    server.once('exit', (code) => fail(new Error(`realname serve exited with ${code}`)));
  });
  base = line.trim().split(' ').pop();
  for (const [login, role] of [['rita', 'reviewer']]) {
    const added = spawnSync(BIN, ['staff', 'add', login, '--role', role, '--database', 'sqlite://e2e.db'], {
      cwd: dir,
      input: `${PASSWORD}\n`,
    });
    assert.equal(added.status, 0, String(added.stderr));
    const uri = String(added.stdout).match(/otpauth:\/\/totp\/\S+/);
    assert.ok(uri, `staff add prints the second factor: ${added.stdout}`);
    authenticators[login] = authenticator(new URL(uri[0]).searchParams.get('secret'));
  }
  const made = spawnSync(BIN, ['apikey', 'create', 'clock', '--test', '--database', 'sqlite://e2e.db'], { cwd: dir });
  assert.equal(made.status, 0, String(made.stderr));
  clockKey = String(made.stdout).trim();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** The second factors of the staff accounts, by login. */
const authenticators = {};

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

/** A screenshot of the page at both widths. */
async function shoot(page, lang, step) {
  for (const [name, size] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(SHOTS, `${lang}-${step}-${name}.png`), fullPage: true });
  }
  await page.setViewportSize(PHONE);
}

// A small real PNG of a "document", so the reviewer's page shows it.
const DOCUMENT_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAKAAAABkCAIAAACO1KzYAAAA/0lEQVR42u3YsQ2AMAxFwQyWSVIzRMahps4Q7EJDnYoVoImMddKbwKffuNS2K3HFCQALsAALsAALsAADFmAlAb7uqcgBBgwYsAALsAALsAADBgz4FfAxzvVBBQwYMGDAgIMCt61nCrAFAwYMGDBgwIABAwYMGLAAA/bJ8smyYAsGDBgwYMCAAQMGDBgwYMCAAftk+WRZsAUDBgwYMGDAgAEDBgwYMGDAgH2yLNiCAQMGDBgwYMCAAQMGDBgwYMA+WT5ZFmzBgAEDBgw4ArAAC7AACzBgwIABAxZgARZgARZgwIABC7AAC7AACzDgL8D6dYABC7AAC7AAC7AAA1aaHntK9qMrwjp0AAAAAElFTkSuQmCC';
const documentImage = () => ({ name: 'page.png', mimeType: 'image/png', buffer: Buffer.from(DOCUMENT_PNG, 'base64') });

/** Moves the sandbox clock with a test key: only a test key or an admin may. */
async function advanceClock(seconds) {
  const res = await fetch(`${base}/v1/sandbox/clock/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${clockKey}` },
    body: JSON.stringify({ seconds }),
  });
  assert.equal(res.status, 200);
}

/** Fills the identity form as John Smith, a US passport holder with an entry record, and sends it. */
async function fillIdentity(page, { passport, phone }) {
  await page.fill('#real_name', 'John Smith');
  await page.selectOption('#nationality', 'USA');
  await page.fill('#date_of_birth', '1990-05-17');
  await page.fill('#phone', phone);
  await page.check('input[name=stay_kind][value=entry_record]');
  await page.fill('#entry_date', '2026-01-10');
  await page.fill('#passport_number', passport);
  await page.fill('#passport_expiry', '2034-01-01');
  await page.check('input[name=consent]');
  await page.click('main form button[type=submit]');
}

/** From the documents step to a submitted application; answers its status page's URL. */
async function documentsCardAndSubmit(page, card, shot) {
  await page.waitForURL('**/documents');
  await shot('05-documents');
  await page.setInputFiles('#passport_photo_page', documentImage());
  await page.setInputFiles('#stay_permit', documentImage());
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/bank_card');
  await shot('06-bank-card');
  await page.selectOption('#bank', 'ICBC');
  await page.fill('#card_number', card);
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/confirm');
  const confirm = await page.textContent('main');
  assert.ok(confirm.includes(card.slice(-4)) && !confirm.includes(card), 'the card is masked');
  await shot('07-confirm');
  await page.click('form[action$="/submit"] button');
  await page.waitForURL(/\/verifications\/[0-9a-f-]+$/);
  await shot('08-deposit-on-its-way');
  return page.url();
}

/** Reads the deposit off the sandbox bank's statement and enters it: the case goes to review. */
async function enterAmount(page, status, card, shot) {
  await advanceClock(0);
  await page.goto(`${base}/sandbox/statement?card_number=${card}`);
  const amount = (await page.textContent('td.amount')).replace('+', '').split(' ')[0];
  await shot('09-bank-statement');
  await page.goto(status);
  await shot('10-enter-amount');
  await page.fill('#amount', amount);
  await page.click('form[action$="/amount"] button');
  await page.waitForURL(status);
}

for (const [lang, accept, card, words] of [
  ['en', 'en-US,en;q=0.9', '6222020000000000018', { verified: 'You are authenticated', review: 'being reviewed', phoneError: 'international code' }],
  ['zh', 'zh-CN,zh;q=0.9', '6212260000000000018', { verified: '认证成功', review: '正在审核中', phoneError: '国际区号' }],
]) {
  test(`a user and a reviewer in ${lang}`, async (t) => {
    if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
    const user = await browser.newContext({ locale: lang, viewport: PHONE, extraHTTPHeaders: { 'Accept-Language': accept } });
    const page = await user.newPage();
    const login = `${lang}-user@example.com`;

    await page.goto(`${base}/register`);
    assert.equal(await page.getAttribute('html', 'lang'), lang === 'en' ? 'en' : 'zh-CN');
    await shoot(page, lang, '01-register');
    await page.fill('#login', login);
    await page.fill('#password', PASSWORD);
    await page.click('main form button[type=submit]');
    await page.waitForURL('**/account');
    await shoot(page, lang, '02-account');
    await page.click('a[href="/authenticate"]');
    await shoot(page, lang, '03-nationality');
    await page.click('a[href="/verifications/new"]');

    // A breach shows next to its field, and what was typed stays.
    await fillIdentity(page, { passport: lang === 'en' ? 'E12345678' : 'G87654321', phone: '91234567' });
    assert.match(await page.textContent('#phone-error'), new RegExp(words.phoneError));
    assert.equal(await page.inputValue('#real_name'), 'John Smith');
    assert.equal(await page.getAttribute('#phone', 'aria-invalid'), 'true');
    await shoot(page, lang, '04-identity-error');
    await page.fill('#phone', '13800138000');
    await page.check('input[name=consent]');
    await page.click('main form button[type=submit]');
    const status = await documentsCardAndSubmit(page, card, (step) => shoot(page, lang, step));
    await enterAmount(page, status, card, (step) => shoot(page, lang, step));
    assert.match(await page.textContent('h1'), new RegExp(words.review));
    await shoot(page, lang, '11-under-review');

    // The reviewer, on a desktop, with the keyboard's access keys on the page.
    const staff = await browser.newContext({ locale: lang, viewport: DESKTOP, extraHTTPHeaders: { 'Accept-Language': accept } });
    const desk = await staff.newPage();
    await desk.goto(`${base}/login`);
    await desk.fill('#login', 'rita');
    await desk.fill('#password', PASSWORD);
    await desk.fill('#totp', await authenticators.rita());
    await desk.click('main form button[type=submit]');
    await desk.waitForURL('**/review');
    await shoot(desk, lang, '12-review-queue');
    const id = status.split('/').pop();
    await desk.click('a[href^="/review/cases/"]');
    await desk.click('button[accesskey=c]');
    assert.ok(await desk.isVisible('button[accesskey=a]'));
    const shown = await desk.$$eval('figure img', (imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
    assert.equal(shown, 2, 'both document images show beside the data');
    await shoot(desk, lang, '13-review-case');
    await desk.click('button[accesskey=a]');
    await staff.close();

    await page.goto(status);
    assert.match(await page.textContent('h1'), new RegExp(words.verified));
    await shoot(page, lang, '14-verified');
    assert.ok(id.length > 30);
    await user.close();
  });
}

test('a platform links its user ext-42, who walks to verified and back to the platform', async (t) => {
  if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
  const made = spawnSync(BIN, ['apikey', 'create', 'shop', '--test', '--scope', 'sessions:write',
    '--scope', 'verifications:read', '--database', 'sqlite://e2e.db'], { cwd: dir });
  assert.equal(made.status, 0, String(made.stderr));
  const key = String(made.stdout).trim();
  const platform = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return [res.status, await res.json()];
  };
  const [created, session] = await platform('POST', '/v1/platform/sessions', {
    external_user_id: 'ext-42', return_url: `${RETURN_ORIGIN}/verified`, locale: 'en',
  });
  assert.equal(created, 201, JSON.stringify(session));
  assert.ok(session.url.startsWith(`${base}/start/`), session.url);

  // A chat app's link preview fetches the link first: it is not signed in, and the link is not used up.
  const preview = await fetch(session.url, { redirect: 'manual' });
  assert.equal(preview.status, 200);
  assert.ok(!(preview.headers.get('set-cookie') ?? '').includes('session='), 'a preview is not signed in');
  assert.match(await preview.text(), /<form method="post"/);

  // The person opens it on their phone and continues: signed in, on the first step, no password asked.
  const user = await browser.newContext({ viewport: PHONE, extraHTTPHeaders: { 'Accept-Language': 'zh-CN' } });
  const page = await user.newPage();
  await page.goto(session.url);
  assert.equal(await page.getAttribute('html', 'lang'), 'en', "the session's locale wins");
  await shoot(page, 'platform', '01-start');
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/verifications/new');
  await fillIdentity(page, { passport: 'E23456789', phone: '13800138000' });
  const card = '6222020000000000133';
  const shot = (step) => shoot(page, 'platform', step);
  const status = await documentsCardAndSubmit(page, card, shot);
  const back = await page.getAttribute('a.button[href^="https://pay.example.com/"]', 'href');
  assert.equal(back, `${RETURN_ORIGIN}/verified?verification_session=${session.id}`);
  await enterAmount(page, status, card, shot);

  // The platform's own view, then the sandbox's review for a test key.
  const id = status.split('/').pop();
  const [, standing] = await platform('GET', '/v1/platform/users/ext-42');
  assert.equal(standing.real_name_status, 'pending', JSON.stringify(standing));
  const [reviewed, decision] = await platform('POST', `/v1/sandbox/verifications/${id}/review`, { outcome: 'approve' });
  assert.equal(reviewed, 200, JSON.stringify(decision));
  await page.goto(status);
  assert.match(await page.textContent('h1'), /You are authenticated/);
  assert.ok(await page.isVisible('a.button[href^="https://pay.example.com/verified"]'), 'the way back to the platform');
  await shoot(page, 'platform', '11-verified');
  const [, after] = await platform('GET', '/v1/platform/users/ext-42');
  assert.equal(after.real_name_status, 'verified', JSON.stringify(after));

  // The link was used: opening it again, anywhere, explains that and offers the way back.
  const other = await browser.newContext({ viewport: PHONE });
  const again = await other.newPage();
  const spent = await again.goto(session.url);
  assert.equal(spent.status(), 410);
  assert.match(await again.textContent('h1'), /link/i);
  assert.ok(await again.isVisible('a.button[href^="https://pay.example.com/verified"]'));
  await shoot(again, 'platform', '12-link-spent');
  await other.close();
  await user.close();
});
