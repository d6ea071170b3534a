// The ways a journey goes wrong, walked in headless Chromium on a phone: a failure explained
// and applied for again from what was there, a cancel that asks first, a session that ends
// mid-step (for an account with a password and for one a platform's link opened), the
// language switched mid-form, the staff's audit log, and the pages of a wrong URL or method.
// Every page state passes `look` (axe-core at both widths, no sideways scroll at 375 px).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  NEXT, PASSWORD, SETTLE_SECONDS, PHONE, RETURN_ORIGIN, documentImage, fillIdentity, look, looked, missing,
  startServer, toCardStep,
} from './lib.mjs';

let rn;

before(async () => {
  if (missing().length) return;
  rn = await startServer([['ada', 'admin']]);
});

after(async () => {
  await rn?.stop();
  if (rn) console.log(`recovery: ${looked.states} page states, ${looked.axeRuns} axe-core runs`);
});

async function newUser(lang, login) {
  const accept = lang === 'en' ? 'en-US,en;q=0.9' : 'zh-CN,zh;q=0.9';
  const context = await rn.browser.newContext({ locale: lang, viewport: PHONE, extraHTTPHeaders: { 'Accept-Language': accept } });
  const page = await context.newPage();
  await page.goto(`${rn.base}/register`);
  await page.fill('#login', login);
  await page.fill('#password', PASSWORD);
  await page.click(NEXT);
  await page.waitForURL('**/account');
  return { context, page };
}

for (const [lang, words] of [
  ['en', { closed: /account is closed/, cancelled: /cancelled/, passport: 'E34567890', card: '6222020000000080002', good: '6222020000000000026' }],
  ['zh', { closed: /账户已销户/, cancelled: /已取消/, passport: 'G34567890', card: '6222020000000160002', good: '6222020000000000042' }],
]) test(`a failure says why, applying again starts from it, and cancelling asks first (${lang})`, async (t) => {
  if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
  const { context, page } = await newUser(lang, `again-${lang}@example.com`);

  // Next on the documents step without a file: said at the input, not at the end.
  await page.goto(`${rn.base}/verifications/new`);
  await fillIdentity(page, { passport: words.passport });
  await page.click(NEXT);
  await page.waitForURL('**/documents');
  await page.click(NEXT);
  await page.waitForURL('**/documents');
  assert.ok(await page.isVisible('#passport_photo_page-error') && await page.isVisible('#stay_permit-error'));
  await look(page, `recovery-${lang}-01-documents-missing`);
  await page.setInputFiles('#passport_photo_page', documentImage());
  await page.setInputFiles('#stay_permit', documentImage());
  await page.click(NEXT);
  await page.waitForURL('**/bank_card');

  // The sandbox bank returns a card ending 0002 as a closed account (AC04).
  await page.selectOption('#bank', 'ICBC');
  await page.fill('#card_number', words.card);
  await page.click(NEXT);
  await page.waitForURL('**/confirm');
  await page.click('form[action$="/submit"] button');
  await page.waitForURL(/\/verifications\/[0-9a-f-]+$/);
  const failed = page.url();
  await rn.advanceClock(SETTLE_SECONDS);
  await page.reload();
  assert.match(await page.textContent('.failure'), words.closed);
  await look(page, `recovery-${lang}-02-failed`);
  await page.goto(`${rn.base}/account`);
  assert.match(await page.textContent('main'), words.closed);
  assert.ok(await page.isVisible(`a[href="${new URL(failed).pathname}"]`), 'the failed application is linked');
  await look(page, `recovery-${lang}-03-account-after-failure`);

  // Apply again: everything as it was but consent and the returned card; the photos came along.
  await page.click('a[href="/authenticate"]');
  await page.click('a[href="/verifications/new"]');
  assert.equal(await page.inputValue('#real_name'), 'John Smith');
  assert.equal(await page.inputValue('#passport_number'), words.passport);
  assert.ok(!(await page.isChecked('#consent')), 'consent is asked anew');
  await look(page, `recovery-${lang}-04-apply-again`);
  await page.check('#consent');
  await page.click(NEXT);
  await page.waitForURL('**/bank_card');
  assert.equal(await page.inputValue('#card_number'), '', 'a card the bank returned is not offered again');
  await page.selectOption('#bank', 'ICBC');
  await page.fill('#card_number', words.good);
  await page.click(NEXT);
  await page.waitForURL('**/confirm');

  // Cancel asks first, then says it is done.
  await page.click('a[href$="/cancel"]');
  await look(page, `recovery-${lang}-05-cancel-asks`);
  await page.click('form[action$="/cancel"] button');
  await page.waitForURL('**/account');
  assert.match(await page.textContent('.notice'), words.cancelled);
  await look(page, `recovery-${lang}-06-cancelled`);
  await context.close();
});

test('a session that ends mid-step comes back to the step with what was typed, and switching language keeps it', async (t) => {
  if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
  const { context, page } = await newUser('zh', 'expiry@example.com');
  await toCardStep(rn, page, { passport: 'E45678901' });
  const step = page.url();
  await page.selectOption('#bank', 'ICBC');
  await page.fill('#card_number', '6222 0200 0000 0000 034');

  // The language switch sends the form along: English, with the card number still there.
  await page.click('header button[form="page-form"]');
  await page.waitForURL('**/bank_card?lang=en');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.inputValue('#card_number'), '6222 0200 0000 0000 034');
  assert.equal(await page.inputValue('#bank'), 'ICBC');
  await look(page, 'recovery-07-language-switched');

  // Twelve hours and more pass (the sandbox clock): the session has ended when Next is pressed.
  await rn.advanceClock(13 * 3600);
  await page.click(NEXT);
  await page.waitForURL(/\/login\?next=/);
  assert.match(await page.textContent('main'), /session ended/);
  await look(page, 'recovery-08-session-ended');
  await page.fill('#login', 'expiry@example.com');
  await page.fill('#password', PASSWORD);
  await page.click(NEXT);
  await page.waitForURL(step);
  assert.equal(await page.inputValue('#card_number'), '6222 0200 0000 0000 034', 'what was typed is kept');
  await look(page, 'recovery-09-back-at-the-step');
  await page.click(NEXT);
  await page.waitForURL('**/confirm');
  await context.close();
});

test('a linked account whose session ended is sent back to its platform for a new link', async (t) => {
  if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
  const made = rn.cli(['apikey', 'create', 'shop', '--test', '--scope', 'sessions:write']);
  assert.equal(made.status, 0, String(made.stderr));
  const key = String(made.stdout).trim();
  const res = await fetch(`${rn.base}/v1/platform/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ external_user_id: 'ext-7', return_url: `${RETURN_ORIGIN}/kyc`, locale: 'zh-CN' }),
  });
  assert.equal(res.status, 201);
  const session = await res.json();
  const context = await rn.browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto(session.url);
  await page.click('main form button[type=submit]');
  await page.waitForURL('**/verifications/new');
  await fillIdentity(page, { kind: 'permanent_residence_card', nationality: '美国' });
  await rn.advanceClock(13 * 3600);
  await page.click(NEXT);
  await page.waitForURL(/\/login\?next=/);
  const back = await page.getAttribute('a.button[href^="https://pay.example.com/"]', 'href');
  assert.equal(back, `${RETURN_ORIGIN}/kyc?verification_session=${session.id}`);
  await look(page, 'recovery-10-linked-session-ended');
  await context.close();
});

test('the audit log reads on a phone, and a wrong URL or method gets a page', async (t) => {
  if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
  for (const lang of ['en', 'zh-CN']) {
    const context = await rn.browser.newContext({ viewport: PHONE, extraHTTPHeaders: { 'Accept-Language': lang } });
    const page = await context.newPage();
    await page.goto(`${rn.base}/login`);
    await page.fill('#login', 'ada');
    await page.fill('#password', PASSWORD);
    await page.click('details.staff summary');
    await page.fill('#totp', await rn.authenticators.ada());
    await page.click(NEXT);
    await page.waitForURL('**/review');
    await look(page, `recovery-${lang}-11-queue-empty`);
    await page.goto(`${rn.base}/audit`);
    await look(page, `recovery-${lang}-12-audit`);
    const missingPage = await page.goto(`${rn.base}/no/such/page`);
    assert.equal(missingPage.status(), 404);
    assert.match(missingPage.headers()['content-type'], /text\/html/);
    await look(page, `recovery-${lang}-13-not-found`);
    const wrongMethod = await page.goto(`${rn.base}/logout`);
    assert.equal(wrongMethod.status(), 405);
    assert.match(wrongMethod.headers()['content-type'], /text\/html/);
    await look(page, `recovery-${lang}-14-method-not-allowed`);
    await context.close();
  }
});
