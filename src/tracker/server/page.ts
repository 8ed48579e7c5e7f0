/**
 * The tracker's HTML front page: what the swarm offers, with live counts. Every name is
 * untrusted (it comes from published torrents) and is escaped; the refresh script only
 * ever writes numbers through textContent.
 */
import type { CatalogEntry } from "./catalog.ts";
import type { SwarmCounts } from "./store/store.ts";
import { formatBytes } from "../../util/format.ts";

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

export interface PageRow {
  entry: CatalogEntry;
  counts: SwarmCounts;
  magnet: string;
}

const SCRIPT = `
async function refresh() {
  try {
    const list = await (await fetch("torrents")).json();
    for (const t of list) {
      const row = document.getElementById("t-" + t.infoHash);
      if (!row) continue;
      row.querySelector(".seeders").textContent = String(t.seeders);
      row.querySelector(".leechers").textContent = String(t.leechers);
      row.querySelector(".completed").textContent = String(t.completed);
    }
  } catch {}
}
setInterval(refresh, 10000);
`;

/** The whole page. `announceUrl` is shown so people can add the tracker by hand. */
export function renderPage(rows: PageRow[], announceUrl: string): string {
  const body = rows.length === 0
    ? `<p>Nothing published yet. Publish with <code>btx seed --tracker ${
      escapeHtml(announceUrl)
    }</code> or <code>POST /torrents</code>.</p>`
    : `<table><thead><tr><th>Name</th><th>Size</th><th>Files</th><th>Seeders</th>` +
      `<th>Leechers</th><th>Completed</th><th>Added</th><th>Get</th></tr></thead><tbody>` +
      rows.map(({ entry: e, counts: c, magnet }) =>
        `<tr id="t-${e.infoHashHex}"><td title="${e.infoHashHex}">${escapeHtml(e.name)}</td>` +
        `<td>${formatBytes(e.length, 1)}</td><td>${e.fileCount}</td>` +
        `<td class="seeders">${c.complete}</td><td class="leechers">${c.incomplete}</td>` +
        `<td class="completed">${c.downloaded}</td>` +
        `<td>${new Date(e.addedAt).toISOString().slice(0, 16).replace("T", " ")}</td>` +
        `<td><a href="${escapeHtml(magnet)}">magnet</a> ` +
        `<a href="torrents/${e.infoHashHex}">.torrent</a></td></tr>`
      ).join("") +
      `</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>btx tracker</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}</style></head>
<body><h1>btx tracker</h1><p>Announce URL: <code>${escapeHtml(announceUrl)}</code></p>
${body}
<script>${SCRIPT}</script></body></html>
`;
}
