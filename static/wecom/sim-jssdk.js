/* Simulated WeCom webview (dev and tests only): the native `WeixinJSBridge` that WeCom injects into
 * the pages it opens. The official @wecom/jssdk (static/vendor/) runs unchanged on top of it.
 *
 * Loaded before the SDK. The SDK decides "am I in WeCom?" once, at load, from navigator.userAgent
 * (/wxwork\/([\d.]+)/) and then signs with agentConfig only (clients >= 3.0.24). An iframe cannot be
 * given its own user agent, so the smallest faithful shim is to append the token WeCom's webview
 * adds, here, on this page only.
 *
 * Signatures are checked by the simulator server against its live tickets and this page's URL, so a
 * wrong or stale signature fails exactly as in WeCom. Chat APIs are answered by the /dev/chat/
 * window through postMessage; opened outside it, the page is "not in a chat" (entry "normal"). */
(function () {
  "use strict";
  if (window.WeixinJSBridge) return; // a real webview: leave it alone

  var WECOM_UA = "wxwork/4.1.22";
  var VERIFY_URL = "/dev/chat/api/verify-signature";
  var parentWin = window.parent !== window ? window.parent : null;
  var pending = {};
  var seq = 0;
  var allowed = null; // jsApiList of the last successful agentConfig / preVerifyJSAPI

  if (!/wxwork\//i.test(navigator.userAgent)) {
    var ua = navigator.userAgent + " " + WECOM_UA;
    Object.defineProperty(navigator, "userAgent", { value: ua, configurable: true });
  }

  window.addEventListener("message", function (ev) {
    var data = ev.data || {};
    if (ev.source !== parentWin || ev.origin !== location.origin || data.source !== "sim-wecom") return;
    var resolve = pending[data.id];
    if (!resolve) return;
    delete pending[data.id];
    resolve(data.result);
  });

  function askChatWindow(api, params) {
    return new Promise(function (resolve) {
      var id = ++seq;
      pending[id] = resolve;
      parentWin.postMessage({ source: "sim-jssdk", id: id, api: api, params: params }, location.origin);
    });
  }

  function verify(kind, fields) {
    var body = Object.assign({ kind: kind, url: location.href.split("#")[0] }, fields);
    return fetch(VERIFY_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
      .then(function (resp) {
        return resp.json();
      })
      .catch(function () {
        return { ok: false, reason: "network error" };
      });
  }

  // The SDK adds the verify* fields of the accepted config to every call; the chat only sees the message.
  function withoutVerifyFields(params) {
    var out = {};
    Object.keys(params || {}).forEach(function (key) {
      if (key !== "appId" && key.indexOf("verify") !== 0) out[key] = params[key];
    });
    return out;
  }

  function answerVerified(api, list, res) {
    if (res.ok) allowed = Array.isArray(list) ? list.slice() : [];
    return { err_msg: api + (res.ok ? ":ok" : ":fail " + res.reason) };
  }

  function handle(api, params) {
    params = params || {};
    if (api === "agentConfig") {
      var agentFields = {
        corpid: params.corpid,
        agentid: params.agentid,
        timestamp: params.timestamp,
        nonceStr: params.nonceStr,
        signature: params.signature,
      };
      return verify("agent", agentFields).then(function (res) {
        return answerVerified(api, params.jsApiList, res);
      });
    }
    if (api === "preVerifyJSAPI") {
      var corpFields = {
        corpid: params.verifyAppId || params.appId,
        timestamp: params.verifyTimestamp,
        nonceStr: params.verifyNonceStr,
        signature: params.verifySignature,
      };
      return verify("config", corpFields).then(function (res) {
        return answerVerified(api, params.verifyJsApiList, res);
      });
    }
    // Like WeCom: only the APIs a verified config listed may be called.
    if (!allowed || allowed.indexOf(api) === -1) return Promise.resolve({ err_msg: api + ":fail no permission" });
    if (!parentWin) {
      if (api === "getContext") return Promise.resolve({ err_msg: "getContext:ok", entry: "normal" });
      return Promise.resolve({ err_msg: api + ":fail not in a chat" });
    }
    return askChatWindow(api, withoutVerifyFields(params));
  }

  window.WeixinJSBridge = {
    invoke: function (api, params, callback) {
      handle(api, params).then(function (res) {
        if (callback) callback(res);
      });
    },
    on: function () {}, // no native events (menu shares, beacons) in the simulator
  };
  document.dispatchEvent(new Event("WeixinJSBridgeReady"));
})();
