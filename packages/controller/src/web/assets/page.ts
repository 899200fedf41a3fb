/** The web view's static documents, as strings: shipped inside the build, no file to install. */
export { APP_CSS } from './page-style.js';
export { APP_JS } from './page-script.js';
export { escapeHtml, INDEX_HTML, loginHtml } from './page-html.js';
