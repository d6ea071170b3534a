// A potential match on a list, in headless Chromium: the user who is held sees the same
// "deposit on its way" as anyone and no word of lists, in English and Chinese; the reviewer's
// screening case shows the hit beside the applicant; a confirmation takes two reviewers and
// ends in the neutral not-eligible page; a dismissal lets the deposit go out. Every page
// state passes `look` (axe-core at both widths, no sideways scroll on a phone).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DESKTOP, NEXT, PASSWORD, PHONE, SETTLE_SECONDS, look, looked, missing, staffLogin, startServer, toCardStep,
} from './lib.mjs';

// One made-up person on a platform's own list (CONTRACT 12's national format).
const LISTED = {
  id: 'e2e-1', names: ['Karl Heinz OSTERMANN'], name_zh: null, date_of_birth: '1990-05-17', nationality: 'DEU',
  documents: [], listed_on: '2026-01-05', note: 'made up for the browser tests',
};
// What the user's pages and their language must never say while a list holds them.
const LIST_WORDS = /screening|sanction|watch ?list|\blists?\b|ofac|名单|筛查|制裁/i;

let rn;

before(async () => {
  if (missing().length) return;
  const file = join(mkdtempSync(join(tmpdir(), 'realname-e2e-list-')), 'platform.jsonl');
  writeFileSync(file, `${JSON.stringify(LISTED)}\n`);
  rn = await startServer([['rita', 'reviewer'], ['rolf', 'reviewer']], { lists: [['national:platform', file]] });
});

after(async () => {
  await rn?.stop();
  if (rn) console.log(`screening: ${looked.states} page states, ${looked.axeRuns} axe-core runs`);
});

const ACCEPT = { en: 'en-US,en;q=0.9', zh: 'zh-CN,zh;q=0.9' };

/** A browser context in `lang` at `viewport`. */
function contextIn(lang, viewport) {
  return rn.browser.newContext({ locale: lang, viewport, extraHTTPHeaders: { 'Accept-Language': ACCEPT[lang] } });
}

/** Fills `fields` ({selector: value}) of the case's decision form, sends `outcome` and waits
 * for the case page again. */
async function decide(desk, caseUrl, outcome, fields = {}) {
  for (const [selector, value] of Object.entries(fields)) await desk.fill(selector, value);
  await desk.click(`button[value=${outcome}]`);
  await desk.waitForURL(caseUrl);
}

/** Registers `login` and applies as the listed person up to the submitted status page. */
async function applyAsListed(page, login, passport, card, lang) {
  await page.goto(`${rn.base}/register`);
  await page.fill('#login', login);
  await page.fill('#password', PASSWORD);
  await page.click(NEXT);
  await page.waitForURL('**/account');
  await toCardStep(rn, page, { name: 'Karl Heinz Ostermann', passport, nationality: lang === 'en' ? 'Germany' : '德国' });
  await page.selectOption('#bank', 'ICBC');
  await page.fill('#card_number', card);
  await page.click(NEXT);
  await page.waitForURL('**/confirm');
  await page.click('form[action$="/submit"] button');
  await page.waitForURL(/\/verifications\/[0-9a-f-]+$/);
  return page.url();
}

/** The user's pages say nothing of lists: the status page, the account and the page's title. */
async function saysNothingOfLists(page, status) {
  for (const url of [status, `${rn.base}/account`]) {
    await page.goto(url);
    const text = `${await page.title()} ${await page.textContent('main')}`;
    assert.ok(!LIST_WORDS.test(text), `${url} says ${text.match(LIST_WORDS)?.[0]}`);
  }
  await page.goto(status);
}

/** Opens the screening queue on `desk`, then the one case in it, and claims it. */
async function claimTheScreeningCase(desk, name) {
  await desk.goto(`${rn.base}/review?kind=screening`);
  const rows = await desk.$$('a[href^="/review/cases/"]');
  assert.equal(rows.length, 1, 'one screening case waits');
  await look(desk, `${name}-queue`);
  await rows[0].click();
  await desk.waitForURL('**/review/cases/**');
  await desk.click('button[accesskey=c]');
  const hits = await desk.textContent('section.screening');
  assert.ok(hits.includes('national:platform') && hits.includes('e2e-1'), 'the hit says its list and entry');
  assert.ok(hits.includes('OSTERMANN'), 'and the listed name beside the applicant');
  assert.ok((await desk.textContent('main')).includes('Karl Heinz Ostermann'), 'the applicant is on the same page');
  await look(desk, `${name}-case`);
  return desk.url();
}

test('a listed person is held without a word, and two reviewers confirm the match (en)', async (t) => {
  if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
  const user = await contextIn('en', PHONE);
  const page = await user.newPage();
  const status = await applyAsListed(page, 'held-en@example.com', 'C01234567', '6222020000000000018', 'en');
  assert.equal(await page.getAttribute('main', 'data-wait'), 'deposit_pending', 'held, it reads as any deposit on its way');
  await saysNothingOfLists(page, status);
  await look(page, 'screening-en-01-held');

  const staff = await contextIn('en', DESKTOP);
  const rita = await staffLogin(rn, staff, 'rita', 'screening-en');
  const caseUrl = await claimTheScreeningCase(rita, 'screening-en-02');
  await decide(rita, caseUrl, 'confirm', { '#report_reference': 'STR-2026-0042' });
  assert.match(await rita.textContent('main'), /rita/, 'the case says who decided first');
  await look(rita, 'screening-en-03-first-confirmation');
  await saysNothingOfLists(page, status);

  const other = await contextIn('en', DESKTOP);
  const rolf = await staffLogin(rn, other, 'rolf', 'screening-en');
  await rolf.goto(`${rn.base}/review?status=awaiting_second_approval`);
  assert.equal((await rolf.$$('a[href^="/review/cases/"]')).length, 1, 'the case waits for a second approver');
  // The first decision let the case go: the second approver claims it like any other.
  await rolf.goto(caseUrl);
  await rolf.click('button[accesskey=c]');
  await decide(rolf, caseUrl, 'confirm', { '#report_reference': 'STR-2026-0042' });
  assert.ok(await rolf.isVisible('p.success'), 'the case is decided');
  await look(rolf, 'screening-en-04-confirmed');
  await staff.close();
  await other.close();

  await saysNothingOfLists(page, status);
  assert.ok(!(await page.getAttribute('main', 'data-wait')), 'no longer waiting');
  await look(page, 'screening-en-05-not-eligible');
  await user.close();
});

test('a name alike dismissed by one reviewer lets the deposit go out (zh)', async (t) => {
  if (missing().length) return t.skip(`needs ${missing().join(', ')}`);
  const user = await contextIn('zh', PHONE);
  const page = await user.newPage();
  const card = '6212260000000000018';
  const status = await applyAsListed(page, 'held-zh@example.com', 'C76543210', card, 'zh');
  await saysNothingOfLists(page, status);
  await look(page, 'screening-zh-01-held');

  const staff = await contextIn('zh', DESKTOP);
  const rita = await staffLogin(rn, staff, 'rita', 'screening-zh');
  const caseUrl = await claimTheScreeningCase(rita, 'screening-zh-02');
  // A dismissal without its note is refused at the note, in the reviewer's language.
  await decide(rita, caseUrl, 'dismiss');
  assert.ok(await rita.isVisible('#note-error'), 'the missing note is said at its field');
  await look(rita, 'screening-zh-03-note-required');
  await decide(rita, caseUrl, 'dismiss', { '#note': '出生日期相同，但护照签发国与照片均不符' });
  assert.ok(await rita.isVisible('p.success'), 'one reviewer dismisses a name alike');
  await look(rita, 'screening-zh-04-dismissed');
  await staff.close();

  // The payout held back goes out: the user's page notices the deposit as anyone's does.
  // The worker pays it a moment after the decision; the clock moves on until it has settled.
  await page.goto(status);
  for (let tries = 0; !(await page.isVisible('#amount')) && tries < 8; tries += 1) {
    await rn.advanceClock(SETTLE_SECONDS);
    await page.waitForSelector('#amount', { timeout: 5_000 }).catch(() => {});
  }
  assert.ok((await page.textContent('main')).includes(card.slice(-4)));
  await saysNothingOfLists(page, status);
  await look(page, 'screening-zh-05-deposit-arrived');
  await user.close();
});
