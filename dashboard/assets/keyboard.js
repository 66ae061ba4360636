// The player's keys (the map is shown under the player, dashboard.layout.KEY_MAP):
// Space play/pause, Left/Right one step, Home/End first/last step, P presenter mode.
// Each key clicks the button that does the same thing, so the keyboard and the mouse share
// one code path (dashboard/player.py). Keys are left alone while typing: in a text field,
// a select, a dropdown (its search box), an editable element or a checkbox; on the slider's
// thumb and on a radio button (speed), where the arrows and Home/End already do their own job.
(function () {
  "use strict";
  var KEYS = {
    " ": "play-button", "Spacebar": "play-button",
    "ArrowLeft": "back-button", "ArrowRight": "forward-button",
    "Home": "first-button", "End": "last-button",
    "p": "presenter-toggle", "P": "presenter-toggle"
  };
  var NAVIGATION = { ArrowLeft: 1, ArrowRight: 1, Home: 1, End: 1 };
  var NOT_TEXT = { button: 1, submit: 1, reset: 1, radio: 1, range: 1, image: 1, file: 1,
                   color: 1 };

  function typing(el) {
    if (!el || el === document.body) { return false; }
    if (el.isContentEditable) { return true; }
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    if (tag === "INPUT" && !NOT_TEXT[(el.type || "text").toLowerCase()]) { return true; }
    return Boolean(el.closest && el.closest(
      ".dash-dropdown, [role=combobox], [role=listbox], [role=option], [role=menu]"));
  }

  function ownsNavigation(el) {
    if (!el) { return false; }
    if (el.tagName === "INPUT" && (el.type === "radio" || el.type === "range")) { return true; }
    return Boolean(el.closest && el.closest("[role=slider], [role=radiogroup], [role=tablist]"));
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var target = KEYS[e.key];
    if (!target) { return; }
    var el = e.target;
    if (typing(el)) { return; }
    if (NAVIGATION[e.key] && ownsNavigation(el)) { return; }
    var button = document.getElementById(target);
    if (!button || button.disabled) { return; }
    e.preventDefault();  // no page scroll, and no second click of a focused button
    // a held Space or P is one press (the arrows repeat: holding → plays through steps)
    if (e.repeat && (target === "play-button" || target === "presenter-toggle")) { return; }
    button.click();
  });
  // A focused button clicks itself on Space's keyup: the keydown above already acted.
  document.addEventListener("keyup", function (e) {
    if ((e.key === " " || e.key === "Spacebar") && !typing(e.target) &&
        e.target && e.target.tagName === "BUTTON") {
      e.preventDefault();
    }
  });
})();
