/* Sidebar shell: sign the JS-SDK, find the customer of the open chat, load their portrait.
 * Plain ES2017, no build step. Needs window.wx (jweixin or the simulator's) and htmx. */
(function () {
  "use strict";

  var script = document.currentScript;
  var opts = script.dataset;
  var wx = window.wx;
  var ready = null; // Promise of a signed JS-SDK, shared by run() and sidebarSDK.send()
  var loadingText = document.querySelector("#shell-status [data-role=message]").textContent;

  function show(message, canRetry) {
    var box = document.getElementById("shell-status");
    if (!box) return;
    box.querySelector("[data-role=message]").textContent = message;
    box.querySelector("[data-role=retry]").hidden = !canRetry;
  }

  // Older WeCom clients ship wx.agentConfig in a separate jwxwork file; the bridge call is the same.
  if (wx && !wx.agentConfig) {
    wx.agentConfig = function (params) {
      if (!window.WeixinJSBridge) {
        if (params.fail) params.fail({ err_msg: "agentConfig:fail no bridge" });
        return;
      }
      window.WeixinJSBridge.invoke("agentConfig", params, function (res) {
        var ok = res && /:ok$/.test(res.err_msg || res.errMsg || "");
        var cb = ok ? params.success : params.fail;
        if (cb) cb(res);
      });
    };
  }

  function call(api, params) {
    return new Promise(function (resolve, reject) {
      wx.invoke(api, params || {}, function (res) {
        var msg = (res && (res.err_msg || res.errMsg)) || "";
        if (msg === api + ":ok") resolve(res);
        else reject(Object.assign(new Error(msg || api + ":fail"), { res: res }));
      });
    });
  }

  async function fetchConfig() {
    var pageUrl = location.href.split("#")[0];
    var resp = await fetch(opts.configUrl + "?url=" + encodeURIComponent(pageUrl), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (resp.status === 401) {
      // The session expired: reloading the page runs OAuth again.
      show(opts.msgSessionExpired, false);
      location.reload();
      throw new Error("session expired");
    }
    var data = await resp.json();
    if (!resp.ok) throw new Error(data.error || opts.msgConfigFailed);
    return data;
  }

  function configure(cfg) {
    return new Promise(function (resolve) {
      // wx.config defines wx.invoke in jweixin; newer WeCom needs only agentConfig, so its
      // failure is not fatal here: agentConfig decides.
      wx.ready(resolve);
      wx.error(resolve);
      wx.config(cfg.config);
    }).then(function () {
      return new Promise(function (resolve, reject) {
        wx.agentConfig(
          Object.assign({}, cfg.agentConfig, {
            success: resolve,
            fail: function (res) {
              reject(Object.assign(new Error((res && res.err_msg) || "agentConfig:fail"), { res: res }));
            },
          })
        );
      });
    });
  }

  async function setup() {
    try {
      await configure(await fetchConfig());
    } catch (err) {
      if (err.message === "session expired") throw err;
      // A ticket may have rotated between signing and checking: fetch a fresh config once.
      await configure(await fetchConfig());
    }
  }

  async function run() {
    show(loadingText, false);
    if (!wx) {
      show(opts.msgConfigFailed, true);
      return;
    }
    ready = setup();
    try {
      await ready;
    } catch (err) {
      if (err.message !== "session expired") show(opts.msgConfigFailed + "（" + err.message + "）", true);
      return;
    }
    try {
      var ctx = await call("getContext");
      if (ctx.entry !== "single_chat_tools") {
        show(opts.msgNotChat, false);
        return;
      }
      var contact = await call("getCurExternalContact");
      if (!contact.userId) throw new Error("no userId");
      if (!opts.portraitUrl) {
        show(opts.msgNoPortrait, true);
        return;
      }
      var url = opts.portraitUrl.replace("__EXTERNAL_USERID__", encodeURIComponent(contact.userId));
      await window.htmx.ajax("GET", url, { target: "#main", swap: "innerHTML" });
    } catch (err) {
      show(opts.msgNoContact + "（" + err.message + "）", true);
    }
  }

  window.sidebarSDK = {
    /* Send a message into the open chat, e.g. {msgtype: "text", text: {content: "您好"}}.
     * Resolves with WeCom's answer; rejects with an Error whose message is WeCom's err_msg. */
    send: async function (msg) {
      if (!ready) throw new Error("sendChatMessage:fail sdk not ready");
      await ready;
      return call("sendChatMessage", msg);
    },
  };

  // A 4xx page (not your customer, unknown customer) carries its own Chinese message: show it.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var status = ev.detail.xhr.status;
    if (ev.detail.target.id === "main" && status >= 400 && status < 500) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });

  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-role=retry]")) run();
  });
  run();
})();
