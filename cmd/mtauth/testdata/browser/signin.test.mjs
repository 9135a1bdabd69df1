// The sign-in screen in a real browser: Debian's chromium driven by
// playwright-core, against `mtauth serve`. cmd/mtauth/browser_test.go
// starts the servers and runs this file with `node --test`; the
// environment variables below say where they are.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function setting(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests with go test ./cmd/mtauth -run TestBrowser`);
  }
  return value;
}

const API = setting('MTAUTH_API'); // mtauth serve, http://127.0.0.1:<port>
// Pages titled "App" on two other origins: APP is an allowed redirect host
// and CORS origin, OTHER is neither.
const APP = setting('MTAUTH_APP_ORIGIN');
const OTHER = setting('MTAUTH_OTHER_ORIGIN');
const USER = setting('MTAUTH_USER');
const PASSWORD = setting('MTAUTH_PASSWORD'); // the web services password (v4)
const SCREENSHOTS = setting('MTAUTH_SCREENSHOTS');

const hex40 = /^[0-9a-f]{40}$/;

let browser;

before(async () => {
  // Each launch runs on a new, empty, temporary profile; nothing is
  // downloaded: the browser is the system's.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

// open returns a page in a fresh browser context (its own cookies), closed
// when the test ends.
async function open(t, options = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(10_000);
  t.after(() => context.close());
  return { context, page: await context.newPage() };
}

function signInURL(redirectUrl, clientId = 'app') {
  const url = new URL('/v4/authorization', API);
  url.searchParams.set('clientId', clientId);
  url.searchParams.set('redirectUrl', redirectUrl);
  return url.href;
}

// fillIn types the credentials into the fields found by their labels and
// presses the button.
async function fillIn(page, password, { remember = false } = {}) {
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Web services password').fill(password);
  if (remember) {
    await page.getByLabel('Remember me').check();
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function cookiesOf(context, url) {
  return Object.fromEntries((await context.cookies(url)).map((c) => [c.name, c]));
}

// theAccessTokenCookie checks the mt_data_api_access_token cookie the app
// reads and returns the sign-in answer in it.
function theAccessTokenCookie(cookies, remember) {
  const cookie = cookies.mt_data_api_access_token;
  assert.ok(cookie, 'no mt_data_api_access_token cookie');
  assert.equal(cookie.httpOnly, false);
  assert.equal(cookie.path, '/');
  const grant = JSON.parse(decodeURIComponent(cookie.value));
  assert.deepEqual(Object.keys(grant), ['accessToken', 'expiresIn', 'remember']);
  assert.match(grant.accessToken, hex40);
  assert.equal(grant.expiresIn, 3600);
  assert.equal(grant.remember, remember);
  return grant;
}

function theUserCookie(cookies, remember) {
  const cookie = cookies.mt_data_api_user_app;
  assert.ok(cookie, 'no mt_data_api_user_app cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');
  assert.match(cookie.value, new RegExp(`^${USER}::[0-9a-f]{40}::${remember ? 1 : 0}$`));
  if (remember) {
    const days = (cookie.expires - Date.now() / 1000) / 86400;
    assert.ok(days > 364 && days <= 365, `remembered cookie expires in ${days} days`);
  } else {
    assert.equal(cookie.expires, -1, 'a session cookie was given an expiry');
  }
  assert.equal(cookies.mt_data_api_login_magic_token, undefined, 'the magic token outlived the sign-in');
}

// call runs fetch in the page and returns what the page could read, or the
// error fetch rejected with.
function call(page, url, init) {
  return page.evaluate(async ({ url, init }) => {
    try {
      const response = await fetch(url, init);
      return { status: response.status, body: await response.json() };
    } catch (error) {
      return { error: String(error) };
    }
  }, { url, init });
}

test('(a) app flow: type the credentials, land on #_login, then POST /token with the cookie', async (t) => {
  const { context, page } = await open(t);
  const landing = `${API}/app/signed-in?tab=1`;
  await page.goto(signInURL(landing));
  assert.equal(await page.title(), 'Sign in | Movable Type');
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, 'signin.png'), fullPage: true });

  // As a person does: the cursor starts in Username, Tab moves to the
  // password, Enter signs in.
  await page.keyboard.type(USER);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${landing}#_login`);

  const cookies = await cookiesOf(context, API);
  theAccessTokenCookie(cookies, false);
  theUserCookie(cookies, false);
  const visible = await page.evaluate(() => document.cookie);
  assert.match(visible, /mt_data_api_access_token=/);
  assert.doesNotMatch(visible, /mt_data_api_user_/, 'script can read the HttpOnly session cookie');

  const answer = await call(page, '/v4/token', {
    method: 'POST', body: new URLSearchParams({ clientId: 'app' }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, credentials: 'include',
  });
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.deepEqual(Object.keys(answer.body), ['accessToken', 'expiresIn']);
  assert.match(answer.body.accessToken, hex40);
});

test('(b) other-host flow: #_ott_ token exchanged once from the app page', async (t) => {
  const { context, page } = await open(t);
  const landing = `${APP}/signed-in`;
  await page.goto(signInURL(landing));
  await fillIn(page, PASSWORD, { remember: true });
  await page.waitForURL(/#_ott_[0-9a-f]{40}$/);
  const arrived = new URL(page.url());
  assert.equal(arrived.origin + arrived.pathname, landing);
  const oneTimeToken = arrived.hash.slice('#_ott_'.length);
  assert.equal(await page.title(), 'App');
  assert.equal((await cookiesOf(context, API)).mt_data_api_user_app, undefined);

  const exchange = () => call(page, `${API}/v4/token`, {
    method: 'POST', headers: { 'X-MT-Authorization': `MTAuth oneTimeToken=${oneTimeToken}` },
  });
  const first = await exchange();
  assert.equal(first.status, 200, JSON.stringify(first));
  assert.deepEqual(Object.keys(first.body), ['accessToken', 'expiresIn', 'remember', 'sessionId']);
  assert.match(first.body.accessToken, hex40);
  assert.match(first.body.sessionId, hex40);
  assert.equal(first.body.remember, true);
  const second = await exchange();
  assert.deepEqual(second, { status: 401, body: { error: { code: 401, message: 'Unauthorized' } } });
});

test('(c) wrong password: "Invalid login." and the screen stays', async (t) => {
  const { page } = await open(t);
  const landing = `${API}/app/after-retry`;
  await page.goto(signInURL(landing));
  await fillIn(page, 'not-the-password');
  const alert = page.getByRole('alert');
  await alert.waitFor({ state: 'visible' });
  assert.equal((await alert.textContent()).trim(), 'Invalid login.');
  assert.equal(new URL(page.url()).pathname, '/v4/authorization');
  assert.equal(await page.getByLabel('Web services password').inputValue(), '');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  await page.screenshot({ path: join(SCREENSHOTS, 'signin-failed.png'), fullPage: true });

  // The screen still works.
  await fillIn(page, PASSWORD);
  await page.waitForURL(`${landing}#_login`);
});

test('(d) without JavaScript: the plain form post ends on the redirect URL', async (t) => {
  await t.test('app flow', async (t) => {
    const { context, page } = await open(t, { javaScriptEnabled: false });
    const landing = `${API}/app/no-script`;
    await page.goto(signInURL(landing));
    await fillIn(page, PASSWORD, { remember: true });
    await page.waitForURL(`${landing}#_login`);
    const cookies = await cookiesOf(context, API);
    theAccessTokenCookie(cookies, true);
    theUserCookie(cookies, true);
  });
  await t.test('wrong password, then the right one', async (t) => {
    const { page } = await open(t, { javaScriptEnabled: false });
    const landing = `${API}/app/no-script-retry`;
    await page.goto(signInURL(landing));
    await fillIn(page, 'not-the-password');
    await page.waitForURL(/\/v4\/authentication$/);
    assert.equal((await page.getByRole('alert').textContent()).trim(), 'Invalid login.');
    assert.equal(await page.getByLabel('Username').inputValue(), USER);
    await fillIn(page, PASSWORD);
    await page.waitForURL(`${landing}#_login`);
  });
  await t.test('other-host flow (the CSP lets the form redirect there)', async (t) => {
    const { page } = await open(t, { javaScriptEnabled: false });
    await page.goto(signInURL(`${APP}/no-script`));
    await fillIn(page, PASSWORD);
    await page.waitForURL(new RegExp(`^${APP}/no-script#_ott_[0-9a-f]{40}$`));
  });
});

test('(e) cross-origin fetch: readable from the allowed origin, blocked from another', async (t) => {
  const { page } = await open(t);
  const signIn = {
    method: 'POST',
    body: new URLSearchParams({ clientId: 'app', username: USER, password: PASSWORD }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  };
  const refused = { method: 'POST', headers: { 'X-MT-Authorization': 'MTAuth accessToken=nope' } };

  await page.goto(`${APP}/`);
  const allowed = await call(page, `${API}/v4/authentication`, signIn);
  assert.equal(allowed.status, 200, JSON.stringify(allowed));
  assert.match(allowed.body.sessionId, hex40);
  // An error answer (after a preflight) is readable too.
  assert.deepEqual(await call(page, `${API}/v4/token`, refused),
    { status: 401, body: { error: { code: 401, message: 'Unauthorized' } } });

  await page.goto(`${OTHER}/`);
  for (const init of [signIn, refused]) {
    const blocked = await call(page, `${API}/v4/authentication`, init);
    assert.match(blocked.error ?? '', /TypeError/, JSON.stringify(blocked));
  }
});

test('(f) the screen cannot be framed, even by an allowed origin', async (t) => {
  const { page } = await open(t);
  await page.goto(`${APP}/`);
  await page.evaluate((src) => new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.src = src;
    frame.onload = resolve;
    document.body.append(frame);
  }), signInURL(`${APP}/framed`));
  const framed = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(framed, 'no frame');
  assert.equal(await framed.locator('form').count().catch(() => 0), 0, 'the sign-in form loaded in a frame');
});
