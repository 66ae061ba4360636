// Hover tooltips on the network: a node's numbers next to the pointer.
// The text is the node's `tooltip` data field (built on the server from the run's outputs);
// nodes without one show their label, kind and state. Attaches to dash-cytoscape's
// `window.cy` once it exists (and again if the instance is replaced).
(function () {
  "use strict";
  var attached = null;

  function text(node) {
    var t = node.data("tooltip");
    if (t) { return t; }
    var parts = [node.data("label") || node.id()];
    if (node.data("kind")) { parts.push(node.data("kind") + ", " + (node.data("state") || "")); }
    return parts.join("\n");
  }

  function attach() {
    var cy = window.cy;
    var tip = document.getElementById("network-tooltip");
    if (!cy || !tip || attached === cy) { return; }
    attached = cy;
    cy.on("mouseover", "node", function (e) {
      var p = e.renderedPosition || e.target.renderedPosition();
      tip.textContent = text(e.target);
      tip.style.display = "block";
      var box = tip.parentElement.getBoundingClientRect();
      var x = Math.min(p.x + 14, box.width - tip.offsetWidth - 4);
      var y = p.y + 14 + tip.offsetHeight > box.height ? p.y - tip.offsetHeight - 10 : p.y + 14;
      tip.style.left = Math.max(4, x) + "px";
      tip.style.top = Math.max(4, y) + "px";
    });
    cy.on("mouseout", "node", function () { tip.style.display = "none"; });
    cy.on("viewport", function () { tip.style.display = "none"; });
  }

  setInterval(attach, 500);
})();
