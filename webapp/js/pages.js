// The pages' shared bits (index.html, chat.html, status.html; not part of the client library):
// the one nav every page carries marks where the reader is, and shows the "Chat demo" link only
// when this server runs the demo (demo=true; off in production builds, where chat.html is a 404).
(function () {
  'use strict';
  var nav = document.querySelector('header nav');
  if (!nav) return;
  var here = location.pathname.replace(/^.*\//, '') || './';
  Array.prototype.forEach.call(nav.querySelectorAll('a'), function (a) {
    if (a.getAttribute('href') === here || (here === 'index.html' && a.getAttribute('href') === './')) a.className = 'here';
  });
  var demo = nav.querySelector('a[data-demo]');
  if (!demo) return;
  fetch('demo/chat/who?room=nav', { cache: 'no-store' }).then(function (r) {
    if (r.ok) demo.hidden = false;
    document.documentElement.setAttribute('data-demo', r.ok ? 'on' : 'off');
  }, function () {
    document.documentElement.setAttribute('data-demo', 'off');
  });
})();
