// The player's state, shared by its clientside callbacks (dashboard/player.py), and its
// Play/Pause switch, which acts in the click's own event-loop turn.
//
// Dash runs a clientside callback some milliseconds after the click that triggers it, and
// the answer for the step on its way may land in between. So the click itself flips
// `playing` (a tick that comes later does nothing) and, on Pause, puts the slider back on the
// step on screen and cancels the step on its way: its answer is dropped when it arrives
// (`answered`, Dash's `request_post` hook, set in dashboard/app.py). Dash itself drops the
// answer of a superseded request only if it has not started to arrive. The callback then
// only shows the new state (button text, the tick on or off).
(function () {
  "use strict";
  var P = window.contagionPlayer = window.contagionPlayer || {
    playing: false,   // the switch
    shown: null,      // the step the server last drew (SHOWN_STEP)
    target: null,     // the step the player last asked for
    last: -Infinity,  // when it last advanced (performance.now())
    times: [],        // its last advances, for the achieved speed
    note: "",
    rate: null,       // the achieved steps/s
    arrived: null,    // the step of the server's last answer (before Dash applies it)
    cancelled: null,  // the step whose answer is to be dropped
    dropped: 0        // how many answers were dropped so far
  };

  // The step the page shows now: its label's number (null when there is none).
  P.onScreen = function () {
    var label = document.getElementById("step-label");
    var m = label && /Step (\d+)/.exec(label.textContent);
    return m ? Number(m[1]) : null;
  };

  P.go = function (step) {
    if (step === P.cancelled) { P.cancelled = null; }  // wanted again: its answer may land
    P.target = step;
    window.dash_clientside.set_props("step-slider", { value: step });
  };

  // Cancel the step on its way, unless its answer has arrived (it is being drawn: let it).
  // Returns whether it was cancelled.
  P.cancel = function (keep) {
    if (P.target === null || P.target === keep || P.arrived === P.target) { return false; }
    P.cancelled = P.target;
    return true;
  };

  // Stop where the page is: back to the step on screen, and the one on its way cancelled.
  P.stopOnScreen = function () {
    var step = P.onScreen();
    if (step === null || step === P.target) { return step; }
    if (P.cancel(step)) { P.go(step); }
    return step;
  };

  // Dash's request_post hook: the server's answer to a callback, before Dash applies it.
  // The answer for a cancelled step is emptied, so nothing of it is drawn.
  P.answered = function (payload, response) {
    if (!payload || !response || String(payload.output).indexOf("shown-step.data") < 0) {
      return;
    }
    var slider = (payload.inputs || []).filter(function (i) { return i.id === "step-slider"; })[0];
    if (!slider) { return; }
    P.arrived = Number(slider.value);
    if (P.arrived === P.cancelled) {
      Object.keys(response).forEach(function (k) { delete response[k]; });
      P.cancelled = null;
      P.dropped += 1;
    }
  };

  document.addEventListener("click", function (e) {
    if (!e.target || !e.target.closest || !e.target.closest("#play-button")) { return; }
    P.playing = !P.playing;
    if (P.playing) {
      P.cancelled = null;
    } else {
      P.stopOnScreen();
    }
  }, true);
})();
