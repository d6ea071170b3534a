// realname: while a page waits on the bank or a reviewer (data-wait on <main>), look every
// 15 seconds whether its status moved on, and reload only then. An enhancement: without it,
// the page's own "Check again" link does the same.
(function () {
  var main = document.querySelector('main[data-wait]');
  if (!main || !window.fetch) return;
  var status = main.getAttribute('data-wait');
  function look() {
    fetch(location.pathname, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) { return res.ok ? res.text() : ''; })
      .then(function (html) {
        var found = /data-wait="([a-z_]+)"/.exec(html);
        var now = found ? found[1] : (/<main[^>]*>/.test(html) ? '' : status);
        if (now !== status) location.reload();
        else setTimeout(look, 15000);
      })
      .catch(function () { setTimeout(look, 30000); });
  }
  setTimeout(look, 15000);
})();
