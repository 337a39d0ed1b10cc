/*
 * Browser collector for HMRC's fraud prevention headers (WEB_APP_VIA_SERVER),
 * shipped with github.com/go-mtd/vat (BrowserCollectorScript).
 *
 * It collects what only the browser knows -- the screen, the window size, the
 * UTC offset, navigator.userAgent -- and a device ID: a random UUID kept in a
 * cookie and in local storage, generated once and regenerated only when both
 * copies are gone. The values go to your server in two first-party cookies,
 * sent with every request:
 *
 *   mtd-device-id  the device ID (400 days, renewed on every page load)
 *   mtd-fph        the other values, as URI-encoded JSON (session cookie)
 *
 * ServerCollector.BrowserValues reads them; ServerCollector.Headers merges
 * them with what the server knows. The cookies are refreshed on load, on
 * resize, when the page regains focus and before every form submission or
 * click, so they describe the moment of the request. Apps that prefer to post
 * the values themselves can call window.mtdFraudPrevention.collect(), which
 * returns the same object (the JSON shape of vat.ClientValues).
 *
 * No dependencies, no network access, nothing else is read.
 */
(function () {
  "use strict";

  var DEVICE_COOKIE = "mtd-device-id";
  var VALUES_COOKIE = "mtd-fph";
  var MAX_AGE = 400 * 24 * 60 * 60; // the longest lifetime browsers allow
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) {
        return parts[i].slice(eq + 1);
      }
    }
    return "";
  }

  function writeCookie(name, value, maxAge) {
    document.cookie = name + "=" + value + "; Path=/; SameSite=Lax" +
      (maxAge ? "; Max-Age=" + maxAge : "") +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = "";
    for (var i = 0; i < 16; i++) {
      h += (b[i] + 0x100).toString(16).slice(1);
    }
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  }

  function storage(op, value) {
    try {
      if (op === "get") {
        return window.localStorage.getItem(DEVICE_COOKIE) || "";
      }
      window.localStorage.setItem(DEVICE_COOKIE, value);
    } catch (e) {
      // Storage may be disabled; the cookie still holds the ID.
    }
    return "";
  }

  function deviceId() {
    var id = readCookie(DEVICE_COOKIE);
    if (!UUID.test(id)) {
      id = storage("get");
    }
    if (!UUID.test(id)) {
      id = uuid4();
    }
    id = id.toLowerCase();
    writeCookie(DEVICE_COOKIE, id, MAX_AGE);
    storage("set", id);
    return id;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // UTC offset now, as UTC+hh:mm (getTimezoneOffset is minutes west of UTC).
  function timezone() {
    var east = -new Date().getTimezoneOffset();
    var sign = east < 0 ? "-" : "+";
    east = Math.abs(east);
    return "UTC" + sign + pad(Math.floor(east / 60)) + ":" + pad(east % 60);
  }

  // devicePixelRatio as a decimal string with at most 3 decimals ("1.25").
  function scalingFactor() {
    var r = Math.round((window.devicePixelRatio || 1) * 1000);
    if (!(r >= 1)) {
      r = 1000;
    }
    var s = String(Math.floor(r / 1000));
    var frac = r % 1000;
    if (frac) {
      s += "." + String(1000 + frac).slice(1).replace(/0+$/, "");
    }
    return s;
  }

  function collect() {
    return {
      deviceId: deviceId(),
      screens: [{
        width: window.screen.width,
        height: window.screen.height,
        scalingFactor: scalingFactor(),
        colourDepth: window.screen.colorDepth
      }],
      windowSize: { width: window.innerWidth, height: window.innerHeight },
      timezone: timezone(),
      browserUserAgent: navigator.userAgent
    };
  }

  function store() {
    writeCookie(VALUES_COOKIE, encodeURIComponent(JSON.stringify(collect())), 0);
  }

  var timer = 0;
  function storeSoon() {
    clearTimeout(timer);
    timer = setTimeout(store, 200);
  }

  store();
  window.addEventListener("resize", storeSoon);
  window.addEventListener("focus", store);
  document.addEventListener("submit", store, true);
  document.addEventListener("click", store, true);
  window.mtdFraudPrevention = { collect: collect, store: store };
})();
