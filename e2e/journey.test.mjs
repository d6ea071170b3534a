// Walks a user from registration to "verified" and reviewers through claim and decision in
// headless Chromium, in English and in Chinese, and a platform's users — permanent residence
// card holders, on a phone — from the platform's link to verified and back, in each language.
// Every page state passes `look`: axe-core at both widths, no sideways scroll at 375 px, a
// screenshot under target/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP, NEXT, PASSWORD, SETTLE_SECONDS, PHONE, RETURN_ORIGIN, depositOf, documentImage, fillIdentity, look,
  looked, missing, staffLogin, startServer,
} from './lib.mjs';

let rn;

before(async () => {
  if (missing().length) return;
  rn = await startServer([['rita', 'reviewer'], ['rolf', 'reviewer']]);
});

after(async () => {
  await rn?.stop();
  if (rn) console.log(`journey: ${looked.states} page states, ${looked.axeRuns} axe-core runs`);
});

for (const [lang, accept, card, words] of [
  ['en', 'en-US,en;q=0.9', '6222020000000000018', { verified: 'You are authenticated', review: 'being reviewed', phoneError: 'international code', held: 'Held by rita', nationality: 'United States', bank: 'Industrial and Commercial Bank of China' }],
  ['zh', 'zh-CN,zh;q=0.9', '6212260000000000018', { verified: '认证成功', review: '正在审核中', phoneError: '国际区号', held: 'rita认领中', nationality: '美国', bank: '中国工商银行' }],
]) {
  test(`a user and reviewers in ${lang}`, async (t) => {
    if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
    const user = await rn.browser.newContext({ locale: lang, viewport: PHONE, extraHTTPHeaders: { 'Accept-Language': accept } });
    const page = await user.newPage();
    const login = `${lang}-user-with-a-long-login@example.com`;

    await page.goto(`${rn.base}/register`);
    assert.equal(await page.getAttribute('html', 'lang'), lang === 'en' ? 'en' : 'zh-CN');
    await look(page, `${lang}-01-register`);
    await page.fill('#login', login);
    await page.fill('#password', PASSWORD);
    await page.click(NEXT);
    await page.waitForURL('**/account');
    await look(page, `${lang}-02-account`);
    await page.click('a[href="/authenticate"]');
    await look(page, `${lang}-03-nationality`);
    await page.click('a[href="/verifications/new"]');
    await look(page, `${lang}-04-identity`);

    // A breach shows next to its field after a redirect, focus on the summary, the title
    // says so, and what was typed stays.
    await fillIdentity(page, { passport: lang === 'en' ? 'E12345678' : 'G87654321', phone: '91234567', nationality: words.nationality });
    await page.click(NEXT);
    await page.waitForURL('**/verifications/new');
    assert.match(await page.textContent('#phone-error'), new RegExp(words.phoneError));
    assert.equal(await page.inputValue('#real_name'), 'John Smith');
    assert.equal(await page.inputValue('#nationality'), words.nationality);
    assert.equal(await page.getAttribute('#phone', 'aria-invalid'), 'true');
    assert.match(await page.getAttribute('#phone', 'aria-describedby'), /phone-error/);
    assert.match(await page.title(), lang === 'en' ? /^Error:/ : /^错误:/);
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'error-summary');
    await look(page, `${lang}-05-identity-error`);
    await page.fill('#phone', '13800138000');
    await page.check('#consent');
    await page.click(NEXT);
    await page.waitForURL('**/documents');
    await look(page, `${lang}-06-documents`);

    // Back to the first step and Next again: the account's draft, not a dead end.
    await page.goto(`${rn.base}/verifications/new`);
    await page.waitForURL('**/documents');

    await page.setInputFiles('#passport_photo_page', documentImage());
    await page.setInputFiles('#stay_permit', documentImage());
    await page.click(NEXT);
    await page.waitForURL('**/bank_card');
    await look(page, `${lang}-07-bank-card`);
    // A card error, then success, then Back: a page, never a form sent again.
    await page.selectOption('#bank', 'CMB');
    await page.fill('#card_number', card);
    await page.click(NEXT);
    await page.waitForURL('**/bank_card');
    assert.ok(await page.isVisible('#bank-error, #card_number-error'), 'the card error is at its field');
    await look(page, `${lang}-08-bank-card-error`);
    await page.selectOption('#bank', 'ICBC');
    await page.click(NEXT);
    await page.waitForURL('**/confirm');
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
    await page.goBack();
    await page.waitForURL('**/bank_card');
    assert.deepEqual(posts, [], 'Back sent no form');
    await page.goForward();
    await page.waitForURL('**/confirm');
    const confirm = await page.textContent('main');
    assert.ok(confirm.includes(card.slice(-4)) && !confirm.includes(card), 'the card is masked');
    assert.ok(confirm.includes(words.nationality) && confirm.includes(words.bank), 'labels, not codes');
    assert.ok(!/\bUSA\b|\bICBC\b/.test(confirm), 'no raw codes');
    await look(page, `${lang}-09-confirm`);
    await page.click('form[action$="/submit"] button');
    await page.waitForURL(/\/verifications\/[0-9a-f-]+$/);
    const status = page.url();
    await look(page, `${lang}-10-deposit-on-its-way`);
    // Submit again from the confirmation page's history entry: the status page says it
    // was submitted already.
    await page.goBack();
    await page.waitForURL(/\/verifications\/[0-9a-f-]+$/);
    for (const step of ['identity', 'documents', 'bank_card', 'confirm']) {
      await page.goto(`${status}/${step}`);
      assert.equal(page.url(), status, `${step} of a submitted application shows its status`);
    }
    await page.goto(`${rn.base}/authenticate`);
    assert.equal(page.url(), status);

    // The waiting page notices the deposit by itself (its small script): no reload pressed.
    await page.goto(status);
    assert.equal(await page.getAttribute('main', 'data-wait'), 'deposit_pending', 'still on its way');
    await rn.advanceClock(SETTLE_SECONDS);
    await page.waitForSelector('#amount', { timeout: 40_000 });
    const amount = await depositOf(page, rn.base, card);
    await look(page, `${lang}-11-bank-statement`);
    await page.goto(status);
    assert.ok((await page.textContent('main')).includes(card.slice(-4)), 'the page says which card to look at');
    await look(page, `${lang}-12-enter-amount`);
    // A wrong amount, then Reload: the attempt is used once.
    const wrong = amount === '0.01' ? '0.02' : '0.01';
    await page.fill('#amount', wrong);
    await page.click('form[action$="/amount"] button');
    await page.waitForURL(status);
    const attempts = async () => page.$$eval('dl dt', (dts) => {
      const i = dts.findIndex((d) => /Attempts|剩余/.test(d.textContent));
      return dts[i]?.nextElementSibling?.textContent;
    });
    assert.equal(await attempts(), '2', 'a wrong amount uses one attempt');
    await look(page, `${lang}-13-wrong-amount`);
    await page.reload();
    assert.equal(await attempts(), '2', 'Reload used no attempt');
    await page.fill('#amount', amount);
    await page.click('form[action$="/amount"] button');
    await page.waitForURL(status);
    assert.match(await page.textContent('h1'), new RegExp(words.review));
    assert.ok(!(await page.textContent('main')).includes('(UTC+8).'), 'the due time reads naturally');
    await look(page, `${lang}-14-under-review`);

    // Reviewers on a desktop: rita claims; rolf sees who holds it and is offered no claim.
    const staff = await rn.browser.newContext({ locale: lang, viewport: DESKTOP, extraHTTPHeaders: { 'Accept-Language': accept } });
    const desk = await staffLogin(rn, staff, 'rita', lang);
    await look(desk, `${lang}-15-review-queue`);
    const id = status.split('/').pop();
    await desk.click('a[href^="/review/cases/"]');
    await look(desk, `${lang}-16-case-before-claim`);
    await desk.click('button[accesskey=c]');
    assert.ok(await desk.isVisible('button[accesskey=a]'));
    assert.equal(await desk.inputValue('#reason'), '', 'no reason is chosen for the reviewer');
    const shown = await desk.$$eval('figure img', (imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
    assert.equal(shown, 2, 'both document images show beside the data');
    const data = await desk.textContent('main');
    assert.ok(!/entry_record|\bcurrent\b|>USA</.test(data), 'labels, not codes');
    await look(desk, `${lang}-17-review-case`);
    const caseUrl = desk.url();

    const other = await rn.browser.newContext({ locale: lang, viewport: PHONE, extraHTTPHeaders: { 'Accept-Language': accept } });
    const rolf = await staffLogin(rn, other, 'rolf', lang);
    await rolf.goto(`${rn.base}/review?status=claimed`);
    assert.ok((await rolf.textContent('main')).includes('rita'), 'the claimed queue says who holds it');
    await look(rolf, `${lang}-18-claimed-queue-phone`);
    await rolf.goto(caseUrl);
    assert.ok((await rolf.textContent('main')).includes(words.held));
    assert.ok(!(await rolf.isVisible('button[accesskey=c]')), 'no claim to refuse on click');
    await look(rolf, `${lang}-19-case-held-by-another-phone`);

    await desk.click('button[accesskey=a]');
    await desk.waitForURL(caseUrl);
    await desk.goto(`${rn.base}/review?status=decided`);
    assert.ok((await desk.textContent('main')).includes(lang === 'en' ? 'Approved' : '已通过'), 'the decided queue says the outcome');
    await look(desk, `${lang}-20-decided-queue`);
    await other.close();
    await staff.close();

    await page.goto(status);
    assert.match(await page.textContent('h1'), new RegExp(words.verified));
    await look(page, `${lang}-21-verified`);
    await page.goto(`${rn.base}/verifications/new`);
    assert.ok(page.url().endsWith('/account'), 'a verified user has nothing more to apply for');
    assert.ok((await page.textContent('main')).includes('John Smith'));
    await look(page, `${lang}-22-account-verified`);
    assert.ok(id.length > 30);
    await user.close();
  });
}

for (const [locale, words] of [
  ['en', { start: /Verify your identity/, verified: /You are authenticated/, nationality: 'United States' }],
  ['zh-CN', { start: /验证您的身份/, verified: /认证成功/, nationality: '美国' }],
]) {
  test(`a platform links its permanent-residence-card holder (${locale}), who walks to verified on a phone and back`, async (t) => {
    if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
    const made = rn.cli(['apikey', 'create', `shop-${locale}`, '--test', '--scope', 'sessions:write', '--scope', 'verifications:read']);
    assert.equal(made.status, 0, String(made.stderr));
    const key = String(made.stdout).trim();
    const platform = async (method, path, body) => {
      const res = await fetch(`${rn.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body && JSON.stringify(body),
      });
      return [res.status, await res.json()];
    };
    const external = `ext-${locale}`;
    const [created, session] = await platform('POST', '/v1/platform/sessions', {
      external_user_id: external, return_url: `${RETURN_ORIGIN}/verified`, locale,
    });
    assert.equal(created, 201, JSON.stringify(session));
    assert.ok(session.url.startsWith(`${rn.base}/start/`), session.url);

    // A chat app's link preview fetches the link first: it is not signed in, and the link is not used up.
    const preview = await fetch(session.url, { redirect: 'manual' });
    assert.equal(preview.status, 200);
    assert.ok(!(preview.headers.get('set-cookie') ?? '').includes('session='), 'a preview is not signed in');
    assert.match(await preview.text(), /<form method="post"/);

    // The person opens it on their phone, whatever their browser's language: the session's wins.
    const other = locale === 'en' ? 'zh-CN' : 'en';
    const user = await rn.browser.newContext({ viewport: PHONE, extraHTTPHeaders: { 'Accept-Language': other } });
    const page = await user.newPage();
    await page.goto(session.url);
    assert.equal(await page.getAttribute('html', 'lang'), locale, "the session's locale wins");
    assert.match(await page.textContent('h1'), words.start);
    await look(page, `platform-${locale}-01-start`);
    await page.click('main form button[type=submit]');
    await page.waitForURL('**/verifications/new');
    await look(page, `platform-${locale}-02-identity`);
    await fillIdentity(page, { kind: 'permanent_residence_card', nationality: words.nationality });
    await look(page, `platform-${locale}-03-identity-card-holder`);
    await page.click(NEXT);
    await page.waitForURL('**/documents');
    assert.ok(!(await page.isVisible('#passport_photo_page')), 'no passport photo page for a card holder');
    await look(page, `platform-${locale}-04-documents`);
    await page.setInputFiles('#stay_permit', documentImage());
    await page.click(NEXT);
    await page.waitForURL('**/bank_card');
    await look(page, `platform-${locale}-05-bank-card`);
    const card = locale === 'en' ? '6222020000000000133' : '6222020000000000141';
    await page.selectOption('#bank', 'ICBC');
    await page.fill('#card_number', card);
    await page.click(NEXT);
    await page.waitForURL('**/confirm');
    await look(page, `platform-${locale}-06-confirm`);
    await page.click('form[action$="/submit"] button');
    await page.waitForURL(/\/verifications\/[0-9a-f-]+$/);
    const status = page.url();
    const back = await page.getAttribute('a.button[href^="https://pay.example.com/"]', 'href');
    assert.equal(back, `${RETURN_ORIGIN}/verified?verification_session=${session.id}`);
    await look(page, `platform-${locale}-07-deposit`);
    await rn.advanceClock(SETTLE_SECONDS);
    const amount = await depositOf(page, rn.base, card);
    await page.goto(status);
    await page.fill('#amount', amount);
    await page.click('form[action$="/amount"] button');
    await page.waitForURL(status);
    await look(page, `platform-${locale}-08-under-review`);

    // The platform's own view, then the sandbox's review for a test key.
    const id = status.split('/').pop();
    const [, standing] = await platform('GET', `/v1/platform/users/${external}`);
    assert.equal(standing.real_name_status, 'pending', JSON.stringify(standing));
    const [reviewed, decision] = await platform('POST', `/v1/sandbox/verifications/${id}/review`, { outcome: 'approve' });
    assert.equal(reviewed, 200, JSON.stringify(decision));
    await page.goto(status);
    assert.match(await page.textContent('h1'), words.verified);
    assert.ok(await page.isVisible('a.button[href^="https://pay.example.com/verified"]'), 'the way back to the platform');
    await look(page, `platform-${locale}-09-verified`);
    const [, after] = await platform('GET', `/v1/platform/users/${external}`);
    assert.equal(after.real_name_status, 'verified', JSON.stringify(after));

    // The link was used: opening it again, anywhere, explains that and offers the way back.
    const elsewhere = await rn.browser.newContext({ viewport: PHONE, extraHTTPHeaders: { 'Accept-Language': locale } });
    const again = await elsewhere.newPage();
    const spent = await again.goto(session.url);
    assert.equal(spent.status(), 410);
    assert.ok(await again.isVisible('a.button[href^="https://pay.example.com/verified"]'));
    await look(again, `platform-${locale}-10-link-spent`);
    await elsewhere.close();
    await user.close();
  });
}
