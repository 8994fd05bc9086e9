// Runs before anything else on the page, before any request the page
// makes itself: takes the enrolment code out of the address, so the
// browser's history holds only "/", and leaves it for m.js.
(function () {
  var h = location.hash;
  if (h.length > 1) {
    history.replaceState(null, '', '/');
    self.k0 = h.slice(1);
  }
})();
