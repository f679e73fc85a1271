// Settings: whether new items also come by email or SMS (GET/PATCH /api/v1/me/settings). A change is saved at
// once; where the directory has no address the switch is off and says why.

import { $, toast } from './dom.js';
import { t } from './i18n.js';

export class Settings {
  constructor({ api }) {
    this.api = api;
    this.dialog = $('#settings');
    this.error = $('#settings-error');
    $('#settings-open').hidden = false;
    $('#settings-open').addEventListener('click', () => this.open());
    $('#settings-form').addEventListener('submit', (e) => { e.preventDefault(); this.dialog.close(); });
    this.dialog.addEventListener('close', () => $('#settings-open').focus());
    for (const [id, key] of [['#settings-email', 'notify_email'], ['#settings-sms', 'notify_sms']]) {
      $(id).addEventListener('change', (e) => this.save(key, e.target));
    }
  }

  async open() {
    this.error.hidden = true;
    this.dialog.showModal();
    try {
      this.render(await this.api.get('/api/v1/me/settings'));
    } catch (error) {
      this.fail(error.message);
    }
    $('#settings-email').focus();
  }

  render(settings) {
    const email = $('#settings-email');
    const sms = $('#settings-sms');
    email.checked = settings.notify_email;
    sms.checked = settings.notify_sms;
    email.disabled = !settings.email && !settings.notify_email;
    sms.disabled = !settings.phone && !settings.notify_sms;
    $('#settings-email-to').textContent = settings.email ? t('settings.to', { where: settings.email }) : t('settings.none_email');
    $('#settings-sms-to').textContent = settings.phone ? t('settings.to', { where: settings.phone }) : t('settings.none_phone');
  }

  fail(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  async save(key, box) {
    this.error.hidden = true;
    box.setAttribute('aria-busy', 'true');
    try {
      this.render(await this.api.patch('/api/v1/me/settings', { [key]: box.checked }));
      toast(t('toast.settings'));
    } catch (error) {
      box.checked = !box.checked;
      this.fail(error.message);
    } finally {
      box.removeAttribute('aria-busy');
    }
  }
}
