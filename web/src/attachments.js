// Attachments (docs/attachments.md): a presigned POST straight to S3, and downloads through the API's 302 to a
// presigned GET (the browser follows it; S3 answers with CORS for this page's origin).

import { ApiError, errorText } from './api.js';
import { h } from './dom.js';

/** Uploads one File; returns the attachment id to link on create. */
export async function upload(api, file) {
  const created = await api.post('/api/v1/attachments', {
    filename: file.name, content_type: file.type || 'application/octet-stream', size: file.size,
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(created.upload.fields || {})) form.append(name, value);
  form.append('file', file);
  let response;
  try {
    response = await fetch(created.upload.url, { method: 'POST', body: form });
  } catch {
    throw new ApiError(`Uploading ${file.name} failed: the storage service cannot be reached.`, 0, null);
  }
  if (!response.ok) {
    const text = await response.text();
    const code = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    throw new ApiError(`Uploading ${file.name} failed: ${code || `HTTP ${response.status}`}.`, response.status, text);
  }
  return created.id;
}

export async function uploadAll(api, files) {
  const ids = [];
  for (const file of files) ids.push(await upload(api, file));
  return ids;
}

function filenameFrom(response, fallback) {
  const disposition = response.headers.get('Content-Disposition') || '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  if (match) {
    try { return decodeURIComponent(match[1]); } catch { return match[1]; }
  }
  return fallback;
}

/** Downloads an attachment to the user's disk under its name. */
export async function download(api, id, filename) {
  const response = await api.raw('GET', `/api/v1/attachments/${encodeURIComponent(id)}`);
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(errorText(response.status, body), response.status, body);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename || filenameFrom(response, `attachment-${id}`), hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** A list of download buttons for [{id, filename?, size?}]. */
export function fileList(api, files, onError) {
  if (!files?.length) return null;
  return h('ul', { class: 'files', 'aria-label': 'Attachments' }, files.map((file) => {
    const name = file.filename || file.name || `attachment ${file.id}`;
    const size = Number.isFinite(file.size) ? ` (${formatSize(file.size)})` : '';
    return h('li', {}, h('button', {
      type: 'button', class: 'download', 'data-attachment': file.id,
      'aria-label': `Download ${name}`,
      onclick: (e) => {
        const button = e.currentTarget;
        button.disabled = true;
        download(api, file.id, file.filename || file.name).catch(onError).finally(() => { button.disabled = false; });
      },
    }, `⬇ ${name}${size}`));
  }));
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
