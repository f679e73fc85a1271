// Small DOM helpers: elements are built with text nodes only, never from HTML strings.

export const $ = (selector, root = document) => root.querySelector(selector);

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('time', {}, iso || '');
  const today = new Date().toDateString() === date.toDateString();
  return h('time', { datetime: date.toISOString(), title: dateTime.format(date) },
    today ? timeOnly.format(date) : dateTime.format(date));
}

let announceTimer;
/** Says something to screen readers (a polite live region). */
export function announce(text) {
  const region = $('#announce');
  region.textContent = '';
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => { region.textContent = text; }, 50);
}

export function showError(text) {
  $('#error-text').textContent = text;
  $('#error').hidden = false;
}

export function clearError() {
  $('#error').hidden = true;
  $('#error-text').textContent = '';
}
