/* Simulated WeCom JS-SDK (dev and tests only): the `wx` object WeCom's webview would provide.
 *
 * Signatures are checked by the simulator server against its tickets and this page's URL, so a
 * wrong signature fails exactly as in WeCom. Chat APIs are answered by the /dev/chat/ window
 * through postMessage; opened outside it, the page is "not in a chat" (entry "normal"). */
(function () {
  "use strict";
  if (window.wx) return;

  var VERIFY_URL = "/dev/chat/api/verify-signature";
  var parentWin = window.parent !== window ? window.parent : null;
  var pending = {};
  var seq = 0;
  var configState = 0; // 0 pending, 1 ok, -1 failed
  var readyFns = [];
  var errorFns = [];
  var configError = null;
  var agentReady = false;

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
      parentWin.postMessage({ source: "sim-jssdk", id: id, api: api, params: params || {} }, location.origin);
    });
  }

  function verify(kind, params) {
    var body = {
      kind: kind,
      url: location.href.split("#")[0],
      corpid: kind === "agent" ? params.corpid : params.appId,
      agentid: params.agentid || "",
      timestamp: params.timestamp,
      nonceStr: params.nonceStr,
      signature: params.signature,
    };
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

  function later(fn, arg) {
    setTimeout(function () {
      fn(arg);
    }, 0);
  }

  var wx = {
    config: function (params) {
      configState = 0;
      verify("config", params).then(function (res) {
        configState = res.ok ? 1 : -1;
        configError = res.ok ? null : { errMsg: "config:fail " + res.reason };
        (res.ok ? readyFns : errorFns).forEach(function (fn) {
          fn(configError);
        });
      });
    },
    ready: function (fn) {
      if (configState === 1) later(fn);
      else readyFns.push(fn);
    },
    error: function (fn) {
      if (configState === -1) later(fn, configError);
      else errorFns.push(fn);
    },
    agentConfig: function (params) {
      verify("agent", params).then(function (res) {
        agentReady = !!res.ok;
        if (res.ok) {
          if (params.success) params.success({ err_msg: "agentConfig:ok" });
        } else if (params.fail) {
          params.fail({ err_msg: "agentConfig:fail " + res.reason });
        }
      });
    },
    invoke: function (api, params, callback) {
      var cb = callback || function () {};
      if (!agentReady) return later(cb, { err_msg: api + ":fail no permission" });
      if (!parentWin) {
        if (api === "getContext") return later(cb, { err_msg: "getContext:ok", entry: "normal" });
        return later(cb, { err_msg: api + ":fail not in a chat" });
      }
      askChatWindow(api, params).then(cb);
    },
  };
  window.wx = window.jWeixin = wx;
})();
