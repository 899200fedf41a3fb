/**
 * The web view's two HTML documents. Nothing inline runs (no script or style elements, no event
 * attributes): the Content-Security-Policy is `default-src 'self'`, and the page's script and
 * style come from /app.js and /app.css.
 */

/** The page: filled in by /app.js from the event stream. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleetban</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>fleetban</h1>
  <span id="role" class="badge"></span>
  <span id="link" class="badge">connecting</span>
  <form method="post" action="/logout"><button type="submit">Log out</button></form>
</header>
<main>
  <section class="cards">
    <div class="card"><div class="n" id="active-bans">0</div><div>active bans</div></div>
    <div class="card"><div class="n" id="host-count">0</div><div>hosts</div></div>
    <div class="card chart"><svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img" aria-label="failures and bans per minute"></svg>
      <div class="legend"><span class="lf">failures</span> <span class="lb">bans</span> per minute, last hour; <span id="chart-max"></span></div></div>
  </section>
  <section class="grid">
    <div><h2>Jails</h2><table id="jails"><thead><tr><th>jail</th><th>failing now</th><th>failures</th><th>banned now</th><th>bans</th><th>maxretry</th><th>findtime</th><th>bantime</th></tr></thead><tbody></tbody></table></div>
    <div><h2>Hosts</h2><table id="hosts"><thead><tr><th>host</th><th>heartbeat</th><th>version</th><th>backend</th><th>enforced</th><th>drift</th><th>mode</th><th>local bans</th></tr></thead><tbody></tbody></table></div>
    <div><h2>Top addresses</h2><table id="top-addresses"><thead><tr><th>address</th><th>jail</th><th>bans</th><th>failures</th></tr></thead><tbody></tbody></table></div>
    <div><h2>Top networks (/24, /64)</h2><table id="top-prefixes"><thead><tr><th>network</th><th>active bans</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section>
    <h2>Bans <span id="shown"></span></h2>
    <div class="tools">
      <input id="filter" type="search" placeholder="filter: address, jail, host, user" aria-label="filter">
      <form id="ban-form" class="admin-only"><input id="ban-ip" name="ip" placeholder="address or CIDR" required aria-label="address to ban"><input id="ban-jail" name="jail" placeholder="jail (manual)" aria-label="jail"><button type="submit" id="ban-button">Ban</button></form>
      <span id="msg" role="status"></span>
    </div>
    <div class="thead" id="ban-head"><span>address</span><span>jail</span><span>reason</span><span>since</span><span>expires</span><span>failures</span><span>count</span><span>hosts</span><span>user</span><span>evidence</span><span class="admin-only"></span></div>
    <div id="scroller"><div id="spacer"></div><div id="rows"></div></div>
  </section>
</main>
</body>
</html>
`;

/** The login page, with `message` (escaped) above the form. */
export function loginHtml(message: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleetban: log in</title>
<link rel="stylesheet" href="/app.css">
</head>
<body class="login">
<form method="post" action="/login">
  <h1>fleetban</h1>
  <p class="error" id="login-error">${escapeHtml(message)}</p>
  <label>Token <input type="password" name="token" id="token" autocomplete="current-password" required autofocus></label>
  <button type="submit" id="login">Log in</button>
</form>
</body>
</html>
`;
}

/** Text as HTML: the five characters that could open markup or end an attribute are escaped. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
