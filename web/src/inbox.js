// The inbox list: newest first, infinite scroll over cursor pages (with a bounded live list), the All / Unread /
// Archived views and kinds, counts, one Tab stop for the list (roving tabindex, arrow keys), a row menu, bulk
// selection, and Undo for archive and delete. Live events (MQTT) keep it current.

import { displayFrom, previewText } from './content.js';
import { $, announce, clearError, h, latestUndo, toast, when } from './dom.js';
import { formatNumber, t } from './i18n.js';

const PAGE_SIZE = 25;
const DEFAULT_MAX_ROWS = 200;
const MAX_IDS = 100;
const SKELETON_ROWS = 6;

const newestFirst = (a, b) => (b.created_at || '').localeCompare(a.created_at || '') || b.id.localeCompare(a.id);
const chunks = (list, size) => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

export class Inbox {
  constructor({ api, onOpen, onError, me = null }) {
    this.api = api;
    this.me = me;                  // {user, name}: a conversation I started and nobody answered says "You"
    this.onOpen = onOpen;
    this.onError = onError;
    this.items = [];
    this.cursor = null;
    this.boundaries = new Map();   // id of a page's last item → the cursor after it (trimming keeps paging exact)
    this.filters = { view: 'all', kind: '' };
    this.selectedId = null;        // the open item
    this.focusId = null;           // the row holding the list's one Tab stop
    this.picked = new Set();       // bulk selection
    this.pendingDeletes = new Map();
    this.counts = null;
    this.loading = false;
    this.loadedOnce = false;
    this.generation = 0;
    this.maxRows = Number(localStorage.getItem('postbox.maxRows')) || DEFAULT_MAX_ROWS;
    this.firstLoad = new Promise((resolve) => { this.firstLoaded = resolve; });
    this.countsTimer = null;
    this.nodes = new Map();        // id → {sig, node}: rows are rebuilt only when they change (focus stays put)
    this.list = $('#items');
    this.menu = $('#row-menu');
    this.bind();
  }

  bind() {
    for (const radio of document.querySelectorAll('input[name="show"]')) {
      radio.addEventListener('change', () => { this.filters.view = radio.value; this.picked.clear(); this.reload(); });
    }
    $('#kind').addEventListener('change', (e) => { this.filters.kind = e.target.value; this.picked.clear(); this.reload(); });
    $('#more').addEventListener('click', () => this.loadMore());
    $('#read-all').addEventListener('click', () => this.readAll());
    $('#select-all').addEventListener('change', (e) => this.pickAll(e.target.checked));
    $('#bulk').addEventListener('click', (e) => {
      const button = e.target.closest('button[data-bulk]');
      if (button) this.bulk(button.dataset.bulk, button);
    });
    this.list.addEventListener('keydown', (e) => this.onKey(e));
    this.list.addEventListener('focusin', (e) => {
      const li = e.target.closest('li[data-id]');
      if (li && li.dataset.id !== this.focusId) { this.focusId = li.dataset.id; this.applyRoving(); }
    });
    this.menu.addEventListener('keydown', (e) => this.onMenuKey(e));
    document.addEventListener('pointerdown', (e) => {
      if (!this.menu.hidden && !this.menu.contains(e.target) && !e.target.closest('.more-btn')) this.closeMenu(false);
    });
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'z' && !e.target.closest('input, textarea')) {
        const undo = latestUndo();
        if (undo) { e.preventDefault(); undo.use(); }
      }
    });
    // Infinite scroll: the next page comes when "Load more" scrolls into view (the button stays for keyboards).
    new IntersectionObserver((entries) => {
      // A keyboard on the button decides for itself.
      if (document.activeElement === $('#more')) return;
      if (entries.some((entry) => entry.isIntersecting) && this.loadedOnce) this.loadMore({ auto: true });
    }, { rootMargin: '400px' }).observe($('#more'));
    // Deletes waiting for their Undo go through when the page goes away.
    window.addEventListener('pagehide', () => { for (const item of [...this.pendingDeletes.values()]) this.commitDelete(item, true); });
  }

  get archivedView() { return this.filters.view === 'archived'; }

  matches(item) {
    if (this.pendingDeletes.has(item.id)) return false;
    if (this.archivedView ? !item.archived : item.archived) return false;
    return (this.filters.view !== 'unread' || !item.read) && (!this.filters.kind || item.kind === this.filters.kind);
  }

  query(cursor) {
    return { limit: PAGE_SIZE, unread: this.filters.view === 'unread' ? 'true' : undefined,
      archived: this.archivedView ? 'true' : undefined, kind: this.filters.kind || undefined, cursor: cursor || undefined };
  }

  remember(page) {
    const last = page.items[page.items.length - 1];
    if (last && page.next_cursor) this.boundaries.set(last.id, page.next_cursor);
  }

  /** The first page and the counts again (after sign-in, a filter change, or a reconnect). */
  async reload() {
    const generation = ++this.generation;
    this.loading = true;
    this.renderStatus();
    if (!this.loadedOnce || !this.items.length) this.render();
    try {
      const [page] = await Promise.all([this.api.get('/api/v1/inbox', this.query()), this.refreshCounts()]);
      if (generation !== this.generation) return;
      this.boundaries.clear();
      this.remember(page);
      this.items = page.items.filter((item) => this.matches(item) || item.id === this.selectedId);
      this.cursor = page.next_cursor;
      for (const id of [...this.picked]) if (!this.get(id)) this.picked.delete(id);
      clearError('network');
      clearError('load');
      this.fillView();
    } catch (error) {
      if (generation === this.generation) {
        // Stale rows would lie about the view: show none, say why, offer to try again.
        this.items = [];
        this.cursor = null;
        this.onError(error, () => this.reload());
      }
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.loadedOnce = true;
        this.render();
        this.firstLoaded();
      }
    }
  }

  /** The observer speaks only when "Load more" moves in or out of view: a page that left it in view asks for the
   * next one itself, once the page is drawn. */
  fillView() {
    requestAnimationFrame(() => {
      const more = $('#more');
      if (more.hidden || document.activeElement === more || !this.cursor) return;
      if (more.getBoundingClientRect().top < window.innerHeight + 400) this.loadMore({ auto: true });
    });
  }

  async loadMore({ auto = false } = {}) {
    if (!this.cursor || this.loading) return;
    const generation = this.generation;
    const before = this.items.length;
    this.loading = true;
    this.renderStatus();
    try {
      const page = await this.api.get('/api/v1/inbox', this.query(this.cursor));
      if (generation !== this.generation) return;
      const known = new Set(this.items.map((item) => item.id));
      this.items.push(...page.items.filter((item) => !known.has(item.id) && this.matches(item)));
      this.remember(page);
      this.cursor = page.next_cursor;
      if (!auto) announce(t('list.loaded', { n: page.items.length }));
      this.fillView();
    } catch (error) {
      this.onError(error, () => this.loadMore());
    } finally {
      if (generation === this.generation) this.loading = false;
      const more = $('#more');
      const hadFocus = document.activeElement === more;
      this.render();
      // Focus stays on Load more; when that was the last page (the button goes), it moves to the first new row.
      if (hadFocus && more.hidden) this.focusRow(this.items[before]?.id ?? this.items[this.items.length - 1]?.id);
    }
  }

  async refreshCounts() {
    try {
      this.counts = await this.api.get('/api/v1/inbox/counts');
      this.renderCounts();
    } catch (error) {
      this.onError(error, () => this.refreshCounts());
    }
  }

  scheduleCounts() {
    clearTimeout(this.countsTimer);
    this.countsTimer = setTimeout(() => this.refreshCounts(), 250);
  }

  // -- the list's contents ----------------------------------------------------------------------------------

  upsert(entry) {
    const index = this.items.findIndex((item) => item.id === entry.id);
    if (index >= 0) {
      if (this.matches(entry) || entry.id === this.selectedId) this.items[index] = entry;
      else this.items.splice(index, 1);
    } else if (this.matches(entry)) {
      const oldest = this.items[this.items.length - 1];
      // Older than everything loaded while more pages remain: it comes with the next page.
      if (this.cursor && oldest && newestFirst(entry, oldest) > 0) return;
      this.items.push(entry);
      this.items.sort(newestFirst);
    }
  }

  /** A live list stays bounded: past maxRows the oldest rows go, back to the last page boundary kept. */
  trim() {
    if (this.items.length <= this.maxRows) return;
    let cut = -1;
    for (let i = Math.min(this.maxRows, this.items.length) - 1; i >= 0; i -= 1) {
      if (this.boundaries.has(this.items[i].id)) { cut = i; break; }
    }
    const keep = cut < 0 ? [] : this.items.slice(0, cut + 1);
    if (this.selectedId && !keep.some((item) => item.id === this.selectedId)) return;
    // No page boundary left above the bound (many live arrivals): start again from the first page.
    if (cut < 0) { this.reload(); return; }
    this.cursor = this.boundaries.get(this.items[cut].id);
    this.items = keep;
    $('#older').hidden = false;
  }

  remove(ids) {
    const gone = new Set(ids);
    this.items = this.items.filter((item) => !gone.has(item.id));
    for (const id of ids) this.picked.delete(id);
  }

  get(id) { return this.items.find((item) => item.id === id); }

  /** The id of the row to focus once these rows are gone: the next one, else the one before. */
  neighbour(ids) {
    const gone = new Set(ids);
    const index = this.items.findIndex((item) => gone.has(item.id));
    if (index < 0) return this.focusId;
    const after = this.items.slice(index).find((item) => !gone.has(item.id));
    const before = this.items.slice(0, index).reverse().find((item) => !gone.has(item.id));
    return (after || before)?.id || null;
  }

  // -- changes made here --------------------------------------------------------------------------------------

  async setRead(items, read, { quiet = false } = {}) {
    const ids = items.map((item) => item.id);
    try {
      for (const part of chunks(ids, MAX_IDS)) await this.api.post(read ? '/api/v1/inbox/read' : '/api/v1/inbox/unread', { ids: part });
      for (const item of items) this.upsert({ ...(this.get(item.id) || item), read, read_at: read ? new Date().toISOString() : null });
      this.render();
      this.refreshCounts();
      if (!quiet) announce(t(read ? 'done.read' : 'done.unread', { n: ids.length }));
      return true;
    } catch (error) {
      this.onError(error, () => this.setRead(items, read));
      return false;
    }
  }

  /** Archive (or move back to the inbox); Undo does the opposite. Focus moves to the next row. */
  async archive(items, archived = true) {
    const ids = items.map((item) => item.id);
    const next = this.neighbour(ids);
    try {
      for (const part of chunks(ids, MAX_IDS)) await this.api.post(archived ? '/api/v1/inbox/archive' : '/api/v1/inbox/unarchive', { ids: part });
    } catch (error) {
      this.onError(error, () => this.archive(items, archived));
      return;
    }
    this.removeAndRefocus(ids, next);
    this.refreshCounts();
    toast(t(archived ? 'done.archived' : 'done.unarchived', { n: ids.length }), {
      action: t('action.undo'),
      onAction: async () => {
        try {
          for (const part of chunks(ids, MAX_IDS)) await this.api.post(archived ? '/api/v1/inbox/unarchive' : '/api/v1/inbox/archive', { ids: part });
          this.restore(items.map((item) => ({ ...item, archived: !archived })));
        } catch (error) {
          this.onError(error);
        }
      },
    });
  }

  /** Delete at once from the page; the API call waits for the Undo toast to go. */
  delete(items) {
    const ids = items.map((item) => item.id);
    const next = this.neighbour(ids);
    for (const item of items) this.pendingDeletes.set(item.id, item);
    this.removeAndRefocus(ids, next);
    toast(t('done.deleted', { n: ids.length }), {
      action: t('action.undo'),
      onAction: () => {
        for (const id of ids) this.pendingDeletes.delete(id);
        this.restore(items);
      },
      onExpire: () => { for (const item of items) this.commitDelete(item); },
    });
  }

  async commitDelete(item, keepalive = false) {
    if (!this.pendingDeletes.has(item.id)) return;
    this.pendingDeletes.delete(item.id);
    try {
      await this.api.request('DELETE', `/api/v1/inbox/${encodeURIComponent(item.id)}`, { keepalive });
    } catch (error) {
      if (error.status === 404) return;   // gone already (deleted in another tab)
      this.restore([item]);
      this.onError(error, () => this.delete([item]));
    }
    this.scheduleCounts();
  }

  removeAndRefocus(ids, next) {
    const focusWasHere = this.list.contains(document.activeElement) || $('#detail').contains(document.activeElement)
      || this.menu.contains(document.activeElement) || $('#bulk').contains(document.activeElement);
    if (ids.includes(this.selectedId)) this.onOpen(null);
    this.remove(ids);
    this.focusId = next;
    this.render();
    if (focusWasHere) this.focusRow(next);
  }

  restore(items) {
    for (const item of items) this.upsert(item);
    this.render();
    this.refreshCounts();
    announce(t('done.restored'));
    const first = items.find((item) => this.get(item.id));
    if (first) this.focusRow(first.id);
  }

  async readAll() {
    const button = $('#read-all');
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    button.textContent = t('read_all.busy');
    this.list.setAttribute('aria-busy', 'true');
    try {
      await this.api.post('/api/v1/inbox/read-all');
      await this.reload();
      toast(t('done.all_read'));
    } catch (error) {
      this.onError(error, () => this.readAll());
    } finally {
      button.removeAttribute('aria-disabled');
      button.textContent = t('read_all');
      this.renderStatus();
    }
  }

  // -- bulk selection -------------------------------------------------------------------------------------------

  pick(id, on) {
    if (on) this.picked.add(id); else this.picked.delete(id);
    this.renderBulk();
  }

  pickAll(on) {
    this.picked = new Set(on ? this.items.map((item) => item.id) : []);
    this.renderBulk();
  }

  async bulk(action, button) {
    const bar = $('#bulk');
    if (action === 'clear') { this.pickAll(false); this.focusRow(this.focusId); return; }
    if (bar.getAttribute('aria-busy') === 'true') return;
    const items = this.items.filter((item) => this.picked.has(item.id));
    if (!items.length) return;
    const label = button.textContent;
    bar.setAttribute('aria-busy', 'true');
    for (const b of bar.querySelectorAll('button')) b.setAttribute('aria-disabled', 'true');
    button.textContent = t('bulk.busy');
    try {
      if (action === 'read' || action === 'unread') {
        if (await this.setRead(items, action === 'read', { quiet: true })) {
          toast(t(action === 'read' ? 'done.read' : 'done.unread', { n: items.length }));
          this.picked.clear();
        }
      } else if (action === 'archive' || action === 'unarchive') {
        await this.archive(items, action === 'archive');
      } else if (action === 'delete') {
        this.delete(items);
      }
    } finally {
      bar.removeAttribute('aria-busy');
      for (const b of bar.querySelectorAll('button')) b.removeAttribute('aria-disabled');
      button.textContent = label;
      this.renderBulk();
      if (!this.picked.size) this.focusRow(this.focusId);
    }
  }

  // -- changes made elsewhere (MQTT) ----------------------------------------------------------------------------

  apply(event) {
    const entry = event.entry;
    const known = Boolean(this.get(entry.id));
    let total = 0;  // until the counts come back
    switch (event.event) {
      case 'created':
        if (!known && this.matches(entry)) {
          toast(t('toast.new', { kind: t(`tag.${entry.kind}`), from: displayFrom(entry) }), { timeout: 4000 });
        }
        if (!known) total = 1;
        this.upsert(entry);
        this.trim();
        break;
      case 'deleted': {
        if (known) total = -1;
        const next = this.neighbour([entry.id]);
        if (this.selectedId === entry.id) this.onOpen(null, t('detail.deleted'));
        this.remove([entry.id]);
        if (this.focusId === entry.id) this.focusId = next;
        break;
      }
      default:  // read, unread, archived, unarchived, updated
        if (event.event === 'archived' && this.selectedId === entry.id && !this.archivedView) {
          this.onOpen(null, t('detail.archived'));
        }
        if (this.focusId === entry.id && !this.matches(entry)) this.focusId = this.neighbour([entry.id]);
        this.upsert(entry);
    }
    if (Number.isInteger(event.unread) && this.counts) {
      this.counts = { unread: event.unread, total: Math.max(event.unread, this.counts.total + total) };
      this.renderCounts();
    }
    this.scheduleCounts();
    this.render();
  }

  // -- keyboard ---------------------------------------------------------------------------------------------------

  rows() { return [...this.list.querySelectorAll('li[data-id]')]; }

  focusRow(id, part = 'open') {
    const rows = this.rows();
    const li = rows.find((row) => row.dataset.id === id) || rows[0];
    if (!li) { $('#inbox-title').focus(); return; }
    this.focusId = li.dataset.id;
    this.applyRoving();
    li.querySelector(`.${part}`)?.focus();
  }

  onKey(event) {
    const li = event.target.closest('li[data-id]');
    if (!li || event.altKey || event.ctrlKey || event.metaKey) return;
    const rows = this.rows();
    const index = rows.indexOf(li);
    const item = this.get(li.dataset.id);
    const on = event.target.classList.contains('open') ? 'open' : event.target.classList.contains('pick') ? 'pick' : 'more-btn';
    const move = (to) => { event.preventDefault(); if (rows[to]) this.focusRow(rows[to].dataset.id, on === 'pick' ? 'pick' : 'open'); };
    switch (event.key) {
      case 'ArrowDown': case 'j':
        if (index === rows.length - 1 && this.cursor) { event.preventDefault(); this.loadMore(); return; }
        return move(index + 1);
      case 'ArrowUp': case 'k': return move(index - 1);
      case 'Home': return move(0);
      case 'End': return move(rows.length - 1);
      case 'ArrowRight':
        event.preventDefault();
        li.querySelector(on === 'pick' ? '.open' : '.more-btn').focus();
        return;
      case 'ArrowLeft':
        event.preventDefault();
        li.querySelector(on === 'more-btn' ? '.open' : '.pick').focus();
        return;
      case 'x': case 'X':
        if (on === 'pick') return;
        event.preventDefault();
        this.pick(item.id, !this.picked.has(item.id));
        return;
      case 'Delete': event.preventDefault(); this.delete([item]); return;
      case 'e': case 'E': event.preventDefault(); this.archive([item], !this.archivedView); return;
      case 'u': case 'U': event.preventDefault(); this.setRead([item], !item.read); return;
      case 'ContextMenu': event.preventDefault(); this.openMenu(item, li.querySelector('.more-btn')); return;
      case 'F10': if (event.shiftKey) { event.preventDefault(); this.openMenu(item, li.querySelector('.more-btn')); } return;
      default:
    }
  }

  applyRoving() {
    const rows = this.rows();
    if (!rows.some((row) => row.dataset.id === this.focusId)) this.focusId = rows[0]?.dataset.id ?? null;
    for (const row of rows) row.querySelector('.open').tabIndex = row.dataset.id === this.focusId ? 0 : -1;
  }

  // -- the row menu ------------------------------------------------------------------------------------------------

  openMenu(item, button) {
    if (!this.menu.hidden && this.menuFor === item.id) { this.closeMenu(true); return; }
    this.closeMenu(false);
    this.menuFor = item.id;
    this.menuButton = button;
    const entry = (label, run, extra = '') => h('button', { type: 'button', role: 'menuitem', tabindex: '-1', class: extra,
      onclick: () => { this.closeMenu(false); run(); } }, label);
    this.menu.replaceChildren(
      entry(item.read ? t('action.unread') : t('action.read'), () => { this.focusRow(item.id); this.setRead([item], !item.read); }),
      entry(this.archivedView ? t('action.unarchive') : t('action.archive'), () => { this.focusRow(item.id); this.archive([item], !this.archivedView); }),
      entry(t('action.delete'), () => { this.focusRow(item.id); this.delete([item]); }, 'danger'));
    this.menu.setAttribute('aria-label', t('row.actions', { from: displayFrom(item) }));
    this.menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    const rect = button.getBoundingClientRect();
    const width = this.menu.offsetWidth;
    const height = this.menu.offsetHeight;
    const below = rect.bottom + height + 8 < window.innerHeight;
    this.menu.style.left = `${Math.max(8, Math.min(rect.right - width, window.innerWidth - width - 8)) + window.scrollX}px`;
    this.menu.style.top = `${(below ? rect.bottom + 4 : rect.top - height - 4) + window.scrollY}px`;
    this.menu.querySelector('[role="menuitem"]').focus();
  }

  closeMenu(refocus) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.menuButton?.setAttribute('aria-expanded', 'false');
    if (refocus && this.menuButton?.isConnected) this.menuButton.focus();
    this.menuFor = null;
  }

  onMenuKey(event) {
    const entries = [...this.menu.querySelectorAll('[role="menuitem"]')];
    const index = entries.indexOf(document.activeElement);
    const go = (to) => { event.preventDefault(); entries[(to + entries.length) % entries.length].focus(); };
    switch (event.key) {
      case 'ArrowDown': return go(index + 1);
      case 'ArrowUp': return go(index - 1);
      case 'Home': return go(0);
      case 'End': return go(entries.length - 1);
      case 'Escape': event.preventDefault(); event.stopPropagation(); this.closeMenu(true); return;
      case 'Tab': this.closeMenu(true); event.preventDefault(); return;
      default:
    }
  }

  // -- rendering -----------------------------------------------------------------------------------------------------

  select(id) {
    this.selectedId = id;
    for (const li of this.rows()) {
      const open = li.querySelector('.open');
      li.classList.toggle('selected', li.dataset.id === id);
      if (li.dataset.id === id) open.setAttribute('aria-current', 'true'); else open.removeAttribute('aria-current');
    }
  }

  renderCounts() {
    const badge = $('#unread-badge');
    const unread = this.counts?.unread ?? 0;
    badge.hidden = !this.counts || unread === 0;
    badge.replaceChildren(formatNumber(unread), h('span', { class: 'sr-only' }, ` ${t('badge')}`));
    document.title = unread ? t('title.unread', { n: unread }) : 'Postbox';
    $('#counts').textContent = this.counts
      ? `${t('count.unread', { n: unread })} · ${t('count.total', { n: this.counts.total })}` : '';
  }

  renderStatus() {
    this.list.setAttribute('aria-busy', String(this.loading));
    const more = $('#more');
    more.setAttribute('aria-disabled', String(this.loading));
    more.textContent = this.loading && this.cursor ? t('list.loading') : t('list.more');
  }

  renderBulk() {
    const n = this.picked.size;
    $('#bulk').hidden = n === 0;
    $('#bulk-count').textContent = t('bulk.selected', { n });
    $('#bulk [data-bulk="archive"]').hidden = this.archivedView;
    $('#bulk [data-bulk="unarchive"]').hidden = !this.archivedView;
    const all = $('#select-all');
    all.checked = n > 0 && n === this.items.length;
    all.indeterminate = n > 0 && n < this.items.length;
    all.disabled = this.items.length === 0;
    for (const li of this.rows()) {
      const on = this.picked.has(li.dataset.id);
      li.querySelector('.pick').checked = on;
      li.classList.toggle('picked', on);
    }
  }

  render() {
    const focusedRow = document.activeElement?.closest?.('#items li[data-id]');
    const focusedPart = document.activeElement?.classList?.[0];
    const skeleton = this.loading && !this.loadedOnce;
    let nodes;
    if (skeleton) {
      nodes = Array.from({ length: SKELETON_ROWS }, () => h('li', { class: 'item skeleton', 'aria-hidden': 'true' },
        h('span', { class: 'bone short' }), h('span', { class: 'bone' })));
    } else {
      const wanted = new Map();
      nodes = this.items.map((item) => {
        const sig = JSON.stringify(item);
        const cached = this.nodes.get(item.id);
        const node = cached && cached.sig === sig ? cached.node : this.row(item);
        wanted.set(item.id, { sig, node });
        return node;
      });
      this.nodes = wanted;
    }
    // Move as little as possible: a row that stays keeps its focus.
    const keep = new Set(nodes);
    for (const child of [...this.list.children]) if (!keep.has(child)) child.remove();
    let cursor = this.list.firstChild;
    for (const node of nodes) {
      if (node === cursor) { cursor = cursor.nextSibling; continue; }
      this.list.insertBefore(node, cursor);
    }
    const empty = $('#empty');
    empty.hidden = this.loading || this.items.length > 0;
    empty.textContent = this.archivedView ? t('list.empty_archived')
      : this.filters.view === 'unread' ? t('list.empty_unread') : t('list.empty');
    $('#more').hidden = !this.cursor;
    if (!this.cursor) $('#older').hidden = true;
    this.renderStatus();
    this.select(this.selectedId);
    this.applyRoving();
    this.renderBulk();
    if (focusedRow && !focusedRow.isConnected && document.activeElement === document.body) {
      this.focusRow(focusedRow.dataset.id, focusedPart === 'pick' ? 'pick' : 'open');
    }
  }

  row(item) {
    const mine = item.kind === 'conversation' && this.me && [this.me.user, this.me.name].includes(item.from);
    const from = mine ? t('detail.you') : displayFrom(item);
    const subject = item.kind === 'conversation' && item.subject ? item.subject : null;
    const li = h('li', {
      class: `item${item.read ? '' : ' unread'}`,
      dataset: { id: item.id, kind: item.kind, read: String(item.read) },
    },
    h('input', { type: 'checkbox', class: 'pick', tabindex: '-1', 'aria-label': t('row.select', { from }),
      onchange: (e) => this.pick(item.id, e.target.checked) }),
    h('button', { type: 'button', class: 'open', tabindex: '-1', onclick: () => this.onOpen(this.get(item.id) || item) },
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { class: 'from', dir: 'auto', title: from }, from),
      h('span', { class: 'tag' }, t(`tag.${item.kind}`)),
      when(item.created_at),
      h('span', { class: 'line' },
        subject ? h('span', { class: 'subject', dir: 'auto' }, subject) : null,
        subject ? h('span', { 'aria-hidden': 'true' }, ' – ') : null,
        h('span', { class: 'text', dir: 'auto' }, previewText(item))),
      item.read ? null : h('span', { class: 'sr-only' }, `, ${t('row.unread')}`)),
    h('button', { type: 'button', class: 'more-btn', tabindex: '-1', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
      'aria-label': t('row.actions', { from }), onclick: (e) => this.openMenu(this.get(item.id) || item, e.currentTarget) },
    h('span', { 'aria-hidden': 'true' }, '⋯')));
    return li;
  }

  /** Rebuilds every row (after a language switch). */
  relabel() {
    this.nodes.clear();
    this.render();
    this.renderCounts();
  }
}
