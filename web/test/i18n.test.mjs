// The catalogue (web/src/i18n.js): every language has every string, with the same placeholders and plural forms;
// counts and placeholders are formatted by the locale. Runs in node, without a browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LANGUAGES, catalogueKeys, setLanguage, t } from '../src/i18n.js';

const placeholders = (text) => [...String(text).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('English and French hold the same keys, placeholders and plural forms', () => {
  assert.deepEqual(Object.keys(LANGUAGES), ['en', 'fr']);
  const english = catalogueKeys('en');
  assert.deepEqual(catalogueKeys('fr').slice().sort(), english.slice().sort());
  for (const key of english) {
    setLanguage('en');
    const en = t(key, { n: 2 });
    setLanguage('fr');
    const fr = t(key, { n: 2 });
    assert.ok(fr.trim(), `${key} is empty in French`);
    assert.doesNotMatch(fr, /\{\w+\}/, key);
    assert.doesNotMatch(en, /\{\w+\}/, key);
  }
});

test('plurals and numbers follow the language', () => {
  setLanguage('en');
  assert.equal(t('count.total', { n: 1 }), '1 item in your inbox');
  assert.equal(t('count.total', { n: 1234 }), '1,234 items in your inbox');
  setLanguage('fr');
  assert.equal(t('count.unread', { n: 1 }), '1 non lu');
  assert.equal(t('count.unread', { n: 0 }), '0 non lu');            // French: zero is singular
  assert.equal(t('count.unread', { n: 2 }), '2 non lus');
  assert.match(t('count.total', { n: 1234 }), /^1\s234 éléments dans votre boîte$/);
  assert.equal(t('toast.sent', { to: 'Carol Chebet' }), 'Message envoyé à Carol Chebet');
  setLanguage('en');
});

test('an unknown key reads as itself, never as undefined', () => {
  assert.equal(t('no.such.key'), 'no.such.key');
  assert.deepEqual(placeholders('{a} {b}'), ['a', 'b']);
});
