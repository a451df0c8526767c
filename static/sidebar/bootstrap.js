/* Sidebar shell: sign the JS-SDK, find the customer of the open chat, load their portrait.
 * With data-mode="workbench" (今日, opened from WeCom's 工作台) it only signs the SDK, for openChat.
 * Plain ES2017, no build step. Needs window.ww (the vendored @wecom/jssdk) and htmx. The SDK talks
 * to WeCom's native bridge; in dev, static/wecom/sim-jssdk.js stands in for that bridge. */
(function () {
  "use strict";

  var script = document.currentScript;
  var opts = script.dataset;
  var ww = window.ww;
  var JS_API_LIST = ["getContext", "getCurExternalContact", "sendChatMessage", "openEnterpriseChat"];
  var workbench = opts.mode === "workbench";
  var ready = null; // Promise of a signed JS-SDK, shared by run() and sidebarSDK.send()
  var signing = null; // {url, promise} of the config fetch both SDK callbacks share
  var loadingText = workbench ? "" : document.querySelector("#shell-status [data-role=message]").textContent;

  function show(message, canRetry) {
    var box = document.getElementById("shell-status");
    if (!box) return;
    box.hidden = !message;
    box.querySelector("[data-role=message]").textContent = message;
    box.querySelector("[data-role=retry]").hidden = !canRetry;
  }

  // The SDK rejects with WeCom's answer object; callers get an Error carrying the client's own
  // err_msg (the SDK's errMsg is a normalised copy: lower-cased, underscores dropped).
  function asError(err) {
    if (err instanceof Error) return err;
    var msg = (err && (err.err_msg || err.errMsg)) || "fail";
    return Object.assign(new Error(msg), { res: err });
  }

  var resign = false; // set after WeCom rejected a (possibly browser-cached) signature

  async function fetchConfig(pageUrl) {
    var resp = await fetch(opts.configUrl + "?url=" + encodeURIComponent(pageUrl), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      // The config is cacheable for a few minutes; a re-sign must reach the server.
      cache: resign ? "reload" : "default",
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

  // One request answers both callbacks (config and agentConfig are signed together for a URL).
  function configFor(url) {
    if (!signing || signing.url !== url) signing = { url: url, promise: fetchConfig(url) };
    return signing.promise;
  }

  function pick(part) {
    return function (url) {
      return configFor(url).then(function (data) {
        var cfg = data[part];
        return { timestamp: cfg.timestamp, nonceStr: cfg.nonceStr, signature: cfg.signature };
      });
    };
  }

  async function setup() {
    try {
      await ww.ensureConfigReady();
    } catch (err) {
      if (err && err.message === "session expired") throw err;
      // A ticket may have rotated between signing and checking: sign once more with a fresh config.
      signing = null;
      resign = true;
      try {
        await ww.ensureConfigReady();
      } catch (again) {
        throw asError(again);
      }
    }
  }

  async function run() {
    show(loadingText, false);
    if (!ww) {
      show(opts.msgConfigFailed, true);
      return;
    }
    // Outside WeCom's webview no native bridge will ever answer: say so instead of waiting.
    if (!/wxwork\//i.test(navigator.userAgent)) {
      if (!workbench) show(opts.msgNotWecom, false); // the workbench list still works; 去聊天 says why not
      return;
    }
    ready = setup();
    try {
      await ready;
    } catch (err) {
      if (err.message !== "session expired") show(opts.msgConfigFailed + "（" + err.message + "）", true);
      return;
    }
    if (workbench) return;
    try {
      var ctx = await ww.getContext();
      if (ctx.entry !== "single_chat_tools") {
        show(opts.msgNotChat, false);
        return;
      }
      var contact = await ww.getCurExternalContact();
      if (!contact.userId) throw new Error("no userId");
      if (!opts.portraitUrl) {
        show(opts.msgNoPortrait, true);
        return;
      }
      var url = opts.portraitUrl.replace("__EXTERNAL_USERID__", encodeURIComponent(contact.userId));
      await window.htmx.ajax("GET", url, { target: "#main", swap: "innerHTML" });
    } catch (err) {
      show(opts.msgNoContact + "（" + asError(err).message + "）", true);
    }
  }

  window.sidebarSDK = {
    /* Send a message into the open chat, e.g. {msgtype: "text", text: {content: "您好"}}.
     * Resolves with WeCom's answer; rejects with an Error whose message is WeCom's err_msg. */
    send: async function (msg) {
      if (!ready) throw Object.assign(new Error("sendChatMessage:fail sdk not ready"), { noSdk: true });
      await ready;
      try {
        return await ww.sendChatMessage(Object.assign({}, msg));
      } catch (err) {
        throw asError(err);
      }
    },
    /* Open the one-to-one chat with a customer (from 今日). Rejects like send(). */
    openChat: async function (externalUserId) {
      if (!ready) throw Object.assign(new Error("openEnterpriseChat:fail sdk not ready"), { noSdk: true });
      await ready;
      try {
        return await ww.openEnterpriseChat({ userIds: "", externalUserIds: externalUserId, groupName: "" });
      } catch (err) {
        throw asError(err);
      }
    },
    /* False outside WeCom (no bridge was ever set up): a send could not even be attempted. */
    connected: function () {
      return Boolean(ready);
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

  // 今日: 去聊天 opens the chat with that customer (the workbench page, or the 今日 tab in the sidebar).
  function todayStatus(text) {
    var box = document.querySelector("[data-role=today-status]");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  async function openChat(button) {
    var msgs = (document.getElementById("today") || {}).dataset || {};
    if (!ready) {
      todayStatus(msgs.msgNoSdk);
      return;
    }
    button.disabled = true;
    todayStatus("");
    try {
      await window.sidebarSDK.openChat(button.dataset.openChat);
    } catch (err) {
      todayStatus((msgs.msgOpenFailed || "") + err.message);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("click", function (ev) {
    var chatButton = ev.target.closest("[data-open-chat]");
    if (chatButton) {
      ev.preventDefault();
      openChat(chatButton);
      return;
    }
    if (!ev.target.closest("[data-role=retry]")) return;
    signing = null; // sign afresh: the ticket or the session may have changed meanwhile
    run();
  });

  try {
    if (ww) {
      ww.register({
        corpId: opts.corpId,
        agentId: opts.agentId,
        jsApiList: JS_API_LIST,
        getConfigSignature: pick("config"),
        getAgentConfigSignature: pick("agentConfig"),
      });
    }
  } catch (err) {
    console.error(err); // e.g. no corp id configured: run() shows the authorisation error
    ww = null;
  }
  run();
})();
