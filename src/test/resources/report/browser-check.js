(function () {
  var violations = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    violations.push(String(e.blockedURI) + ' (' + e.violatedDirective + ')');
  });
  window.addEventListener('load', function () {
    setTimeout(function () {
      var imgs = Array.prototype.slice.call(document.images);
      var result = {
        images: imgs.length,
        loaded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0; }).length,
        broken: imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                    .map(function (i) { return i.getAttribute('data-chart') || i.src.substring(0, 60); }),
        charts: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; })
                    .map(function (i) { return i.getAttribute('data-chart'); }),
        widths: imgs.map(function (i) { return i.naturalWidth + 'x' + i.naturalHeight; }),
        resources: performance.getEntriesByType('resource').map(function (r) { return r.name.substring(0, 120); }),
        violations: violations,
        svgs: document.querySelectorAll('svg').length
      };
      var pre = document.createElement('pre');
      pre.id = 'depthlens-check';
      pre.textContent = JSON.stringify(result);
      document.body.appendChild(pre);
    }, 0);
  });
})();
