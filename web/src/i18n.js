// Every string the page shows, in one catalogue (English and French), with dates and counts formatted by the
// locale (Intl). The language comes from the browser unless the person picked one (kept in localStorage).

const LANG_KEY = 'postbox.lang';
export const LANGUAGES = { en: 'English', fr: 'Français' };

const CATALOGUE = {
  en: {
    'app.loading': 'Loading Postbox…',
    'app.slow': 'This is taking long: check your connection, then reload the page.',
    'app.skip': 'Skip to content',
    'app.language': 'Language',
    'signin.title': 'Sign in',
    'signin.local': "The local stack's directory: pick who you are (no password locally).",
    'signin.user': 'User',
    'signin.button': 'Sign in',
    'signin.cognito': 'Sign in with your Postbox account.',
    'signout': 'Sign out',
    'settings': 'Settings',
    'conn.connecting': 'Connecting…',
    'conn.live': 'Live',
    'conn.reconnecting': 'Reconnecting…',
    'conn.offline': 'Offline',
    'conn.title': 'Live updates: {detail}',
    'inbox.title': 'Inbox',
    'view.label': 'Show',
    'view.all': 'All',
    'view.unread': 'Unread',
    'view.archived': 'Archived',
    'kind.label': 'Kind',
    'kind.all': 'All kinds',
    'kind.message': 'Messages',
    'kind.conversation': 'Conversations',
    'kind.alert': 'Alerts',
    'tag.message': 'message',
    'tag.conversation': 'conversation',
    'tag.alert': 'alert',
    'read_all': 'Mark all read',
    'read_all.busy': 'Marking…',
    'compose.open': 'New message',
    'select_all': 'Select all',
    'list.label': 'Inbox items',
    'list.help': 'Up and down arrows move between items, Enter opens, X selects, Delete deletes, E archives, '
      + 'U marks read or unread, the right arrow reaches the item’s actions.',
    'list.empty': 'Nothing here yet.',
    'list.empty_unread': 'No unread items: you are all caught up.',
    'list.empty_archived': 'Nothing archived.',
    'list.more': 'Load more',
    'list.loading': 'Loading…',
    'list.loaded': { one: '{n} more item loaded', other: '{n} more items loaded' },
    'list.older': 'Older items are one “Load more” away.',
    'row.unread': 'unread',
    'row.select': 'Select the item from {from}',
    'row.actions': 'Actions for the item from {from}',
    'action.read': 'Mark read',
    'action.unread': 'Mark unread',
    'action.archive': 'Archive',
    'action.unarchive': 'Move to inbox',
    'action.delete': 'Delete',
    'action.undo': 'Undo',
    'action.dismiss': 'Dismiss',
    'action.retry': 'Retry',
    'action.close': 'Close',
    'action.back': 'Back',
    'count.unread': { one: '{n} unread', other: '{n} unread' },
    'count.total': { one: '{n} item in your inbox', other: '{n} items in your inbox' },
    'badge': 'unread',
    'title.unread': '({n}) Postbox',
    'bulk.selected': { one: '{n} selected', other: '{n} selected' },
    'bulk.clear': 'Clear selection',
    'bulk.busy': 'Working…',
    'done.read': { one: '{n} item marked read', other: '{n} items marked read' },
    'done.unread': { one: '{n} item marked unread', other: '{n} items marked unread' },
    'done.archived': { one: 'Archived', other: '{n} items archived' },
    'done.unarchived': { one: 'Moved to the inbox', other: '{n} items moved to the inbox' },
    'done.deleted': { one: 'Deleted', other: '{n} items deleted' },
    'done.restored': 'Restored',
    'done.all_read': 'All marked read',
    'toast.new': 'New {kind} from {from}',
    'toast.sent': 'Message sent to {to}',
    'toast.reply_sent': 'Reply sent',
    'toast.settings': 'Settings saved',
    'detail.loading': 'Loading…',
    'detail.received': 'Received',
    'detail.message_from': 'Message from {from}',
    'detail.alert_from': 'Alert from {from}',
    'detail.conversation': 'Conversation',
    'detail.open_app': 'Open in the app',
    'detail.cannot_show': 'The full {kind} cannot be shown: {reason}',
    'detail.alert_gone': 'the alert is no longer available.',
    'detail.no_conversations': 'conversations are not available here.',
    'detail.deleted': 'This item was deleted.',
    'detail.archived': 'This item was archived.',
    'detail.messages': 'Messages',
    'detail.internal': 'internal note',
    'detail.you': 'You',
    'detail.system': 'System',
    'reply.label': 'Reply',
    'reply.send': 'Send reply',
    'attachments': 'Attachments',
    'download': 'Download {name}',
    'compose.title': 'New message',
    'compose.to': 'To',
    'compose.to_hint': 'Type a name: people, groups, and forms or projects you may write to.',
    'compose.subject': 'Subject',
    'compose.message': 'Message',
    'compose.cancel': 'Cancel',
    'compose.send': 'Send',
    'compose.sending': 'Sending…',
    'compose.uploading': 'Uploading…',
    'compose.searching': 'Searching…',
    'compose.no_match': 'No one matches “{query}”.',
    'compose.pick': 'Pick a recipient from the list.',
    'compose.picked': 'To {name} ({kind})',
    'compose.remove': 'Remove {name}',
    'recipient.user': 'person',
    'recipient.group': 'group',
    'recipient.project': 'project',
    'recipient.xform': 'form',
    'recipient.entitylist': 'entity list',
    'recipient.kmskey': 'signing key',
    'err.recipient_gone': '{name} cannot receive messages any more: pick someone else.',
    'err.no_write': 'You may not write to {name}.',
    'err.subject': 'A message to a group needs a subject.',
    'err.text': 'Write a message first.',
    'settings.title': 'Settings',
    'settings.intro': 'New messages, conversations and alerts always reach this inbox. They can also come by:',
    'settings.email': 'Email',
    'settings.sms': 'SMS',
    'settings.to': 'to {where}',
    'settings.none_email': 'no email address on file: ask your administrator to add one.',
    'settings.none_phone': 'no phone number on file: ask your administrator to add one.',
    'settings.done': 'Done',
    'err.offline': 'You are offline: Postbox will catch up when the connection returns.',
    'err.generic': 'Something went wrong: {message}',
    'err.session': 'Your session has ended: sign in again.',
    'err.users': "Cannot list the local directory's users: {message}",
    'err.start': 'The inbox could not start: {message}',
    'alert.field': '{key}: {value}',
  },
  fr: {
    'app.loading': 'Chargement de Postbox…',
    'app.slow': 'Cela prend du temps : vérifiez votre connexion, puis rechargez la page.',
    'app.skip': 'Aller au contenu',
    'app.language': 'Langue',
    'signin.title': 'Connexion',
    'signin.local': 'L’annuaire de la pile locale : choisissez qui vous êtes (pas de mot de passe en local).',
    'signin.user': 'Utilisateur',
    'signin.button': 'Se connecter',
    'signin.cognito': 'Connectez-vous avec votre compte Postbox.',
    'signout': 'Se déconnecter',
    'settings': 'Réglages',
    'conn.connecting': 'Connexion…',
    'conn.live': 'En direct',
    'conn.reconnecting': 'Reconnexion…',
    'conn.offline': 'Hors ligne',
    'conn.title': 'Mises à jour en direct : {detail}',
    'inbox.title': 'Boîte de réception',
    'view.label': 'Afficher',
    'view.all': 'Tout',
    'view.unread': 'Non lus',
    'view.archived': 'Archivés',
    'kind.label': 'Type',
    'kind.all': 'Tous les types',
    'kind.message': 'Messages',
    'kind.conversation': 'Conversations',
    'kind.alert': 'Alertes',
    'tag.message': 'message',
    'tag.conversation': 'conversation',
    'tag.alert': 'alerte',
    'read_all': 'Tout marquer comme lu',
    'read_all.busy': 'En cours…',
    'compose.open': 'Nouveau message',
    'select_all': 'Tout sélectionner',
    'list.label': 'Éléments de la boîte',
    'list.help': 'Les flèches haut et bas passent d’un élément à l’autre, Entrée ouvre, X sélectionne, Suppr '
      + 'supprime, E archive, U marque lu ou non lu, la flèche droite atteint les actions de l’élément.',
    'list.empty': 'Rien pour l’instant.',
    'list.empty_unread': 'Aucun élément non lu : vous êtes à jour.',
    'list.empty_archived': 'Rien d’archivé.',
    'list.more': 'Afficher plus',
    'list.loading': 'Chargement…',
    'list.loaded': { one: '{n} élément de plus', other: '{n} éléments de plus' },
    'list.older': 'Les éléments plus anciens sont à un « Afficher plus ».',
    'row.unread': 'non lu',
    'row.select': 'Sélectionner l’élément de {from}',
    'row.actions': 'Actions pour l’élément de {from}',
    'action.read': 'Marquer comme lu',
    'action.unread': 'Marquer comme non lu',
    'action.archive': 'Archiver',
    'action.unarchive': 'Remettre dans la boîte',
    'action.delete': 'Supprimer',
    'action.undo': 'Annuler',
    'action.dismiss': 'Fermer',
    'action.retry': 'Réessayer',
    'action.close': 'Fermer',
    'action.back': 'Retour',
    'count.unread': { one: '{n} non lu', other: '{n} non lus' },
    'count.total': { one: '{n} élément dans votre boîte', other: '{n} éléments dans votre boîte' },
    'badge': 'non lus',
    'title.unread': '({n}) Postbox',
    'bulk.selected': { one: '{n} sélectionné', other: '{n} sélectionnés' },
    'bulk.clear': 'Désélectionner',
    'bulk.busy': 'En cours…',
    'done.read': { one: '{n} élément marqué comme lu', other: '{n} éléments marqués comme lus' },
    'done.unread': { one: '{n} élément marqué comme non lu', other: '{n} éléments marqués comme non lus' },
    'done.archived': { one: 'Archivé', other: '{n} éléments archivés' },
    'done.unarchived': { one: 'Remis dans la boîte', other: '{n} éléments remis dans la boîte' },
    'done.deleted': { one: 'Supprimé', other: '{n} éléments supprimés' },
    'done.restored': 'Rétabli',
    'done.all_read': 'Tout est marqué comme lu',
    'toast.new': 'Nouveau {kind} de {from}',
    'toast.sent': 'Message envoyé à {to}',
    'toast.reply_sent': 'Réponse envoyée',
    'toast.settings': 'Réglages enregistrés',
    'detail.loading': 'Chargement…',
    'detail.received': 'Reçu',
    'detail.message_from': 'Message de {from}',
    'detail.alert_from': 'Alerte de {from}',
    'detail.conversation': 'Conversation',
    'detail.open_app': 'Ouvrir dans l’application',
    'detail.cannot_show': 'Impossible d’afficher l’élément en entier : {reason}',
    'detail.alert_gone': 'l’alerte n’est plus disponible.',
    'detail.no_conversations': 'les conversations ne sont pas disponibles ici.',
    'detail.deleted': 'Cet élément a été supprimé.',
    'detail.archived': 'Cet élément a été archivé.',
    'detail.messages': 'Messages',
    'detail.internal': 'note interne',
    'detail.you': 'Vous',
    'detail.system': 'Système',
    'reply.label': 'Répondre',
    'reply.send': 'Envoyer la réponse',
    'attachments': 'Pièces jointes',
    'download': 'Télécharger {name}',
    'compose.title': 'Nouveau message',
    'compose.to': 'À',
    'compose.to_hint': 'Tapez un nom : personnes, groupes, formulaires ou projets où vous pouvez écrire.',
    'compose.subject': 'Objet',
    'compose.message': 'Message',
    'compose.cancel': 'Annuler',
    'compose.send': 'Envoyer',
    'compose.sending': 'Envoi…',
    'compose.uploading': 'Téléversement…',
    'compose.searching': 'Recherche…',
    'compose.no_match': 'Personne ne correspond à « {query} ».',
    'compose.pick': 'Choisissez un destinataire dans la liste.',
    'compose.picked': 'À {name} ({kind})',
    'compose.remove': 'Retirer {name}',
    'recipient.user': 'personne',
    'recipient.group': 'groupe',
    'recipient.project': 'projet',
    'recipient.xform': 'formulaire',
    'recipient.entitylist': 'liste d’entités',
    'recipient.kmskey': 'clé de signature',
    'err.recipient_gone': '{name} ne peut plus recevoir de messages : choisissez quelqu’un d’autre.',
    'err.no_write': 'Vous ne pouvez pas écrire à {name}.',
    'err.subject': 'Un message à un groupe a besoin d’un objet.',
    'err.text': 'Écrivez d’abord un message.',
    'settings.title': 'Réglages',
    'settings.intro': 'Les messages, conversations et alertes arrivent toujours dans cette boîte. Ils peuvent aussi venir par :',
    'settings.email': 'E-mail',
    'settings.sms': 'SMS',
    'settings.to': 'à {where}',
    'settings.none_email': 'aucune adresse e-mail connue : demandez à votre administrateur d’en ajouter une.',
    'settings.none_phone': 'aucun numéro de téléphone connu : demandez à votre administrateur d’en ajouter un.',
    'settings.done': 'Terminé',
    'err.offline': 'Vous êtes hors ligne : Postbox se mettra à jour au retour de la connexion.',
    'err.generic': 'Un problème est survenu : {message}',
    'err.session': 'Votre session a pris fin : reconnectez-vous.',
    'err.users': 'Impossible de lister les utilisateurs de l’annuaire local : {message}',
    'err.start': 'La boîte n’a pas pu démarrer : {message}',
    'alert.field': '{key} : {value}',
  },
};

const storage = globalThis.localStorage ?? { getItem: () => null, setItem: () => {} };   // none outside a browser

function pickLanguage() {
  const saved = storage.getItem(LANG_KEY);
  if (saved && CATALOGUE[saved]) return saved;
  for (const tag of globalThis.navigator?.languages || [globalThis.navigator?.language || 'en']) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (CATALOGUE[base]) return base;
  }
  return 'en';
}

export let lang = pickLanguage();
let plurals = new Intl.PluralRules(lang);
let numbers = new Intl.NumberFormat(lang);
let dateTime = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
let timeOnly = new Intl.DateTimeFormat(lang, { timeStyle: 'short' });
let shortDate = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short' });

export function setLanguage(next) {
  if (!CATALOGUE[next]) return;
  lang = next;
  storage.setItem(LANG_KEY, next);
  plurals = new Intl.PluralRules(lang);
  numbers = new Intl.NumberFormat(lang);
  dateTime = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  timeOnly = new Intl.DateTimeFormat(lang, { timeStyle: 'short' });
  shortDate = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short' });
  if (globalThis.document) document.documentElement.lang = lang;
}

/** The string for key in the current language; {name} placeholders filled from params (numbers by locale). */
export function t(key, params = {}) {
  let text = CATALOGUE[lang][key] ?? CATALOGUE.en[key] ?? key;
  if (typeof text === 'object') {
    const n = Number(params.n ?? 0);
    text = text[plurals.select(n)] ?? text.other;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => {
    const value = params[name];
    if (value === undefined || value === null) return '';
    return typeof value === 'number' ? numbers.format(value) : String(value);
  });
}

export const formatNumber = (n) => numbers.format(n);

/** {short, full}: the time today, else the day; and the full date and time. */
export function formatWhen(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  const today = new Date().toDateString() === date.toDateString();
  const thisYear = new Date().getFullYear() === date.getFullYear();
  return { date, short: today ? timeOnly.format(date) : thisYear ? shortDate.format(date) : dateTime.format(date),
    full: dateTime.format(date) };
}

/** Fills the static page: data-i18n (text) and data-i18n-<attr> (attributes). */
export function translatePage(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder));
}

export const catalogueKeys = (language) => Object.keys(CATALOGUE[language]);
