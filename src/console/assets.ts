/**
 * The console's two static assets: one stylesheet (one visual language, AA contrast, usable on a
 * narrow screen) and one small script that only adds copy-to-clipboard buttons.
 */
export const STYLESHEET = `
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f4f5f9}
a{color:#2a45b8}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.3rem .6rem;z-index:2}
.bar{background:#1d2433;color:#fff;padding:.5rem 1.2rem;display:flex;flex-wrap:wrap;gap:.6rem 1.2rem;align-items:center;justify-content:space-between}
.bar a{color:#fff}.brand{font-weight:700;text-decoration:none;font-size:1.1rem}
.context{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
.context label{margin:0;font-weight:400}.context select{width:auto;padding:.2rem;color:#1d2433}.context button{margin:0;padding:.25rem .7rem}
.switcher{display:flex;gap:.4rem;align-items:center}
.shell{display:flex;gap:1.2rem;max-width:72rem;margin:1.2rem auto;padding:0 1rem;align-items:flex-start}
nav[aria-label=Console]{flex:0 0 13rem}
nav h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.05em;color:#4a5368;margin:1rem 0 .3rem}
nav ul{list-style:none;margin:0;padding:0}nav li a{display:block;padding:.35rem .6rem;border-radius:4px;text-decoration:none}
nav a[aria-current=page]{background:#dfe5fb;font-weight:600}
.card{flex:1;min-width:0;background:#fff;padding:1.3rem 1.8rem;border-radius:8px;box-shadow:0 1px 3px #0002}
.narrow{max-width:30rem;margin:2rem auto}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem}h1,h2,h3,h4{overflow-wrap:anywhere}
label{display:block;margin-top:.9rem;font-weight:600}
input,select,textarea{width:100%;padding:.5rem;font:inherit;border:1px solid #8a93a8;border-radius:4px;background:#fff;color:inherit}
input[type=checkbox],input[type=radio]{width:auto;margin-right:.4rem}
fieldset{border:1px solid #c9cedb;border-radius:4px;margin-top:.9rem}legend{font-weight:600}
fieldset label{font-weight:400;margin-top:.3rem}
button,a.button{margin-top:1.1rem;padding:.5rem 1.1rem;font:inherit;background:#2a45b8;color:#fff;border:1px solid #2a45b8;border-radius:4px;cursor:pointer}
a.button{display:inline-block;margin-right:.5rem;text-decoration:none}
button.secondary,a.button.secondary{background:#fff;color:#2a45b8}
button.danger,a.button.danger{background:#a4001d;border-color:#a4001d;color:#fff}
form.inline{display:inline-block;margin-right:.5rem}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin-top:1rem}.actions button,.actions a.button{margin-top:0}
.hint{color:#4a5368;margin:.1rem 0;font-size:.9rem}
.error{color:#a4001d;background:#fdecee;border-left:4px solid #a4001d;padding:.5rem .8rem}
.error p,.error ul{margin:.2rem 0}
.field-error{color:#a4001d;margin:.1rem 0;font-size:.9rem}.invalid input,.invalid select,.invalid textarea{border-color:#a4001d}
.notice{background:#e6f4ea;border-left:4px solid #1e7b34;padding:.5rem .8rem}
.warning{background:#fff4e0;border-left:4px solid #8a5300;padding:.5rem .8rem}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92rem}
.copy-row{display:flex;gap:.4rem}.copy-row button{margin:0}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #dde1ea;vertical-align:top}td{overflow-wrap:anywhere}caption{text-align:left}td.mono,td .mono{word-break:break-all}td.nowrap{white-space:nowrap;word-break:normal}
th{font-size:.85rem;color:#4a5368;text-transform:uppercase;letter-spacing:.03em}
.table-wrap{overflow-x:auto}.table-wrap table{min-width:40rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
.toolbar{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end;justify-content:space-between}
.toolbar form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}
.toolbar label{margin-top:0}.toolbar input,.toolbar select{width:auto}
.pager{display:flex;gap:1rem;margin-top:1rem}
dialog{position:static;border:2px solid #2a45b8;border-radius:8px;padding:1rem 1.3rem;max-width:100%;color:inherit}
.muted{color:#4a5368}
@media (max-width:720px){.shell{flex-direction:column;align-items:stretch;padding:0 .5rem}nav[aria-label=Console]{flex:none;width:100%}
nav ul{display:flex;flex-wrap:wrap;gap:.2rem}.card{padding:1rem}.narrow{margin:1rem .5rem}}
`;

/** The tab icon: the brand's initial on its colour (also spares browsers a /favicon.ico 404). */
export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d2433"/><text x="16" y="23" font-family="system-ui,sans-serif" font-size="20" font-weight="700" fill="#fff" text-anchor="middle">T</text></svg>`;

/** Copy buttons are hidden until this script runs; without it the values stay selectable text. */
export const CONSOLE_SCRIPT = `
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () {
    var ids = button.getAttribute('data-copy').split(' ');
    var text = ids.map(function (id) {
      var el = document.getElementById(id);
      return ids.length > 1 ? el.labels[0].textContent + ': ' + el.value : el.value;
    }).join('\\n');
    navigator.clipboard.writeText(text).then(function () {
      var label = button.textContent;
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });
});
`;
