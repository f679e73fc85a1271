// New message: the recipient picker searches people, groups and the targets one may write to by name
// (GET /api/v1/lookup); a person or a target gets an Ona message, a group a DHIS2 conversation (with a subject).
// Refusals read as sentences about the recipient, never as field names.

import { uploadAll } from './attachments.js';
import { $, h, toast } from './dom.js';
import { t } from './i18n.js';

const SEARCH_DELAY_MS = 150;

export class Compose {
  constructor({ api, config }) {
    Object.assign(this, { api, config });
    this.dialog = $('#compose');
    this.form = $('#compose-form');
    this.error = $('#compose-error');
    this.files = $('#compose-files');
    this.input = $('#compose-to');
    this.options = $('#compose-options');
    this.recipient = null;
    this.results = [];
    this.active = -1;
    this.searchToken = 0;
    $('#compose-files-label').hidden = !config.features?.attachments;
    $('#compose-open').addEventListener('click', () => this.open());
    $('#compose-cancel').addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.send(); });
    this.input.addEventListener('input', () => { this.unpick(false); this.search(); });
    this.input.addEventListener('keydown', (event) => this.onKey(event));
    this.input.addEventListener('blur', () => setTimeout(() => this.hideOptions(), 150));
    this.dialog.addEventListener('close', () => { this.opener?.focus(); });
  }

  open() {
    this.opener = document.activeElement;
    this.error.hidden = true;
    this.dialog.showModal();
    (this.recipient ? $('#compose-text') : this.input).focus();
  }

  // -- the picker (an ARIA combobox with a listbox) ---------------------------------------------------------------

  search() {
    clearTimeout(this.timer);
    const query = this.input.value.trim();
    if (!query) { this.hideOptions(); return; }
    const token = ++this.searchToken;
    this.timer = setTimeout(async () => {
      this.showStatus(t('compose.searching'));
      try {
        const { results } = await this.api.get('/api/v1/lookup', { query, limit: 10 });
        if (token !== this.searchToken) return;
        this.results = results;
        this.active = results.length ? 0 : -1;
        if (results.length) this.renderOptions(); else this.showStatus(t('compose.no_match', { query }));
      } catch (error) {
        if (token === this.searchToken) this.showStatus(error.message);
      }
    }, SEARCH_DELAY_MS);
  }

  showStatus(text) {
    this.results = [];
    this.active = -1;
    this.options.replaceChildren(h('li', { class: 'status', role: 'option', 'aria-disabled': 'true', id: 'compose-status' }, text));
    this.options.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.input.removeAttribute('aria-activedescendant');
  }

  renderOptions() {
    this.options.replaceChildren(...this.results.map((r, i) => h('li', {
      id: `compose-option-${i}`, role: 'option', 'aria-selected': String(i === this.active),
      class: i === this.active ? 'active' : '',
      onpointerdown: (e) => { e.preventDefault(); this.choose(i); },
    }, h('span', { class: 'name', dir: 'auto' }, r.name), ' ',
    h('span', { class: 'kind' }, t(`recipient.${r.kind}`)),
    r.kind === 'user' && r.id !== r.name ? h('small', { class: 'id' }, ` ${r.id}`) : null)));
    this.options.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    if (this.active >= 0) {
      this.input.setAttribute('aria-activedescendant', `compose-option-${this.active}`);
      this.options.children[this.active]?.scrollIntoView({ block: 'nearest' });
    }
  }

  hideOptions() {
    this.options.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  onKey(event) {
    const open = !this.options.hidden && this.results.length;
    if (event.key === 'ArrowDown' && open) {
      event.preventDefault(); this.active = (this.active + 1) % this.results.length; this.renderOptions();
    } else if (event.key === 'ArrowUp' && open) {
      event.preventDefault(); this.active = (this.active - 1 + this.results.length) % this.results.length; this.renderOptions();
    } else if (event.key === 'Enter' && open && this.active >= 0) {
      event.preventDefault(); this.choose(this.active);
    } else if (event.key === 'Escape' && !this.options.hidden) {
      event.preventDefault(); this.hideOptions();
    } else if (event.key === 'Backspace' && this.recipient && !this.input.value) {
      this.unpick(true);
    }
  }

  choose(index) {
    const r = this.results[index];
    if (!r) return;
    this.recipient = r;
    this.hideOptions();
    this.input.value = '';           // the chip shows who; typing again picks someone else
    const chip = $('#compose-picked');
    chip.replaceChildren(h('span', { dir: 'auto' }, t('compose.picked', { name: r.name, kind: t(`recipient.${r.kind}`) })),
      h('button', { type: 'button', class: 'chip-remove', 'aria-label': t('compose.remove', { name: r.name }),
        onclick: () => { this.unpick(true); this.input.focus(); } }, h('span', { 'aria-hidden': 'true' }, '×')));
    chip.hidden = false;
    $('#compose-subject-label').hidden = r.kind !== 'group';
    this.error.hidden = true;
    (r.kind === 'group' ? $('#compose-subject') : $('#compose-text')).focus();
  }

  unpick(clearText) {
    if (!this.recipient) return;
    this.recipient = null;
    $('#compose-picked').hidden = true;
    $('#compose-subject-label').hidden = true;
    if (clearText) this.input.value = '';
  }

  // -- sending ---------------------------------------------------------------------------------------------------

  fail(text, field) {
    this.error.textContent = text;
    this.error.hidden = false;
    field?.focus();
  }

  /** The API's refusal as a sentence about the recipient. */
  explain(error, recipient) {
    const text = String(error.message || '');
    if (error.status === 403 || /permission/i.test(text)) return t('err.no_write', { name: recipient.name });
    if (/not found|could not be found|inactive|reaches no user/i.test(text)) return t('err.recipient_gone', { name: recipient.name });
    return text.replace(/^target_id: |^message: /, '');
  }

  async send() {
    const recipient = this.recipient;
    const text = $('#compose-text').value;
    const subject = $('#compose-subject').value.trim();
    if (!recipient) return this.fail(t('compose.pick'), this.input);
    if (recipient.kind === 'group' && !subject) return this.fail(t('err.subject'), $('#compose-subject'));
    if (!text.trim()) return this.fail(t('err.text'), $('#compose-text'));
    const button = $('#compose-send');
    button.disabled = true;
    this.error.hidden = true;
    try {
      let attachments = [];
      if (this.files.files.length) {
        button.textContent = t('compose.uploading');
        attachments = await uploadAll(this.api, this.files.files);
      }
      button.textContent = t('compose.sending');
      if (recipient.kind === 'group') {
        await this.api.post('/api/messageConversations', {
          subject, text, userGroups: [{ id: recipient.id }], attachments: attachments.map((id) => ({ id })),
        });
      } else {
        await this.api.post('/api/v1/messaging', {
          target_type: recipient.kind, target_id: recipient.id, message: text,
          ...(attachments.length ? { attachments } : {}),
        });
      }
      this.form.reset();
      this.unpick(true);
      this.dialog.close();
      toast(t('toast.sent', { to: recipient.name }));
    } catch (error) {
      this.fail(this.explain(error, recipient));
    } finally {
      button.disabled = false;
      button.textContent = t('compose.send');
    }
  }
}
