// New message (Ona face): to a user, or to a target the user may write to; the API's error text on a 4xx.

import { uploadAll } from './attachments.js';
import { $, announce, h } from './dom.js';

export class Compose {
  constructor({ api, config, users }) {
    Object.assign(this, { api, config });
    this.dialog = $('#compose');
    this.form = $('#compose-form');
    this.error = $('#compose-error');
    this.files = $('#compose-files');
    $('#compose-files-label').hidden = !config.features?.attachments;
    $('#compose-users').replaceChildren(...(users || []).map((u) => h('option', { value: u.id }, u.name)));
    // Suggest the directory's users only where a user id is wanted.
    const type = $('#compose-type');
    const target = $('#compose-target');
    type.addEventListener('change', () => {
      if (type.value === 'user') target.setAttribute('list', 'compose-users');
      else target.removeAttribute('list');
    });
    $('#compose-open').addEventListener('click', () => this.open());
    $('#compose-cancel').addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.send(); });
  }

  open() {
    this.error.hidden = true;
    this.dialog.showModal();
    $('#compose-target').focus();
  }

  async send() {
    const button = $('#compose-send');
    button.disabled = true;
    this.error.hidden = true;
    try {
      const body = {
        target_type: $('#compose-type').value, target_id: $('#compose-target').value.trim(),
        message: $('#compose-text').value,
      };
      if (this.files.files.length) {
        button.textContent = 'Uploading…';
        body.attachments = await uploadAll(this.api, this.files.files);
      }
      button.textContent = 'Sending…';
      await this.api.post('/api/v1/messaging', body);
      this.form.reset();
      this.dialog.close();
      announce(`Message sent to ${body.target_type} ${body.target_id}`);
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
    } finally {
      button.disabled = false;
      button.textContent = 'Send';
    }
  }
}
