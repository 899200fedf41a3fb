/** The web view's style sheet (/app.css). */
export const APP_CSS = `*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,sans-serif;color:#1d2430;background:#f4f6f8}
header{display:flex;align-items:center;gap:.75em;padding:.5em 1em;background:#1d2430;color:#fff}
header h1{font-size:16px;margin:0 1em 0 0}
header form{margin-left:auto}
.badge{padding:1px 8px;border-radius:9px;background:#3b4658;font-size:12px}
.badge.live{background:#2e7d32}.badge.down{background:#b71c1c}
main{padding:1em;display:flex;flex-direction:column;gap:1em}
h2{font-size:14px;margin:.2em 0 .4em}
.cards{display:flex;gap:1em;flex-wrap:wrap}
.card{background:#fff;border-radius:6px;padding:.6em 1em;box-shadow:0 1px 2px #0002}
.card .n{font-size:26px;font-weight:600}
.card.chart{flex:1;min-width:320px}
#chart{width:100%;height:120px;display:block}
.legend{font-size:11px;color:#555}.lf{color:#1565c0}.lb{color:#c62828}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1em}
.grid>div{overflow-x:auto}
.grid>div,section>h2+.tools{background:#fff;border-radius:6px;padding:.5em .8em;box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:2px 6px;border-bottom:1px solid #e3e6ea;white-space:nowrap}
th{font-weight:600;color:#444}
.tools{display:flex;gap:1em;align-items:center;flex-wrap:wrap;margin-bottom:.4em}
#filter{width:22em}
#msg{color:#555}#msg.err{color:#b71c1c}
.admin-only{display:none}
body.admin .admin-only{display:revert}
.thead,.row{display:grid;grid-template-columns:12em 7em 6em 8em 8em 5em 4em 9em 7em minmax(10em,1fr) 5em;gap:6px;align-items:center}
.thead{font-weight:600;padding:0 6px;color:#444}
body:not(.admin) .thead,body:not(.admin) .row{grid-template-columns:12em 7em 6em 8em 8em 5em 4em 9em 7em minmax(10em,1fr)}
#scroller{height:60vh;min-height:240px;overflow-y:auto;position:relative;background:#fff;border-radius:6px;box-shadow:0 1px 2px #0002}
#rows{position:absolute;top:0;left:0;right:0}
.row{position:absolute;left:0;right:0;height:24px;padding:0 6px;border-bottom:1px solid #eef0f3}
.row span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row button{font-size:11px;padding:0 6px}
body.login{display:flex;justify-content:center;align-items:center;height:100vh}
body.login form{background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0003;display:flex;flex-direction:column;gap:.8em;min-width:20em}
.error{color:#b71c1c;min-height:1em;margin:0}
`;
