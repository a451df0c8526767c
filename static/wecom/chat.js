/* /dev/chat/ window: answers the simulated JS-SDK running in the sidebar iframe (dev only). */
(function () {
  "use strict";

  var cfg = document.getElementById("sim-chat-config").dataset;
  var frame = document.getElementById("sim-sidebar-frame");

  // The sidebar's sign-in in the iframe rotates the CSRF token, so read the cookie at request time.
  function csrfToken() {
    var match = document.cookie.match(new RegExp("(?:^|; )" + cfg.csrfCookie + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : cfg.csrf;
  }
  document.addEventListener("htmx:configRequest", function (ev) {
    ev.detail.headers["X-CSRFToken"] = csrfToken();
  });

  var picker = document.querySelector("[data-role=guide-picker]");
  if (picker) {
    picker.querySelector("select").addEventListener("change", function () {
      picker.submit();
    });
  }

  function scrollToNewest() {
    var list = document.querySelector("[data-role=messages]");
    if (list) list.scrollTop = list.scrollHeight;
  }
  scrollToNewest();
  document.addEventListener("htmx:afterSwap", scrollToNewest);

  function refreshConversation() {
    var conv = document.getElementById("conversation");
    if (!conv) return Promise.resolve();
    return window.htmx.ajax("GET", conv.dataset.refreshUrl, { target: "#conversation", swap: "outerHTML" });
  }

  async function sendChatMessage(params) {
    var resp = await fetch(cfg.sendUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ userid: cfg.userid, external_userid: cfg.externalUserid, msg: params }),
    });
    var result;
    try {
      result = await resp.json();
    } catch (err) {
      result = { err_msg: "sendChatMessage:fail HTTP " + resp.status };
    }
    if (result.err_msg === "sendChatMessage:ok") await refreshConversation();
    return result;
  }

  async function answer(api, params) {
    if (api === "getContext") {
      return { err_msg: "getContext:ok", entry: cfg.externalUserid ? "single_chat_tools" : "normal" };
    }
    if (api === "getCurExternalContact") {
      if (!cfg.externalUserid) return { err_msg: "getCurExternalContact:fail no contact" };
      return { err_msg: "getCurExternalContact:ok", userId: cfg.externalUserid };
    }
    if (api === "sendChatMessage") return sendChatMessage(params);
    return { err_msg: api + ":fail not supported by the simulator" };
  }

  window.addEventListener("message", function (ev) {
    var data = ev.data || {};
    if (!frame || ev.source !== frame.contentWindow || ev.origin !== location.origin) return;
    if (data.source !== "sim-jssdk") return;
    answer(data.api, data.params)
      .catch(function (err) {
        // The simulator's own request failed: answer like WeCom does, so the card does not hang.
        return { err_msg: data.api + ":fail " + ((err && err.message) || "network error") };
      })
      .then(function (result) {
        frame.contentWindow.postMessage({ source: "sim-wecom", id: data.id, result: result }, location.origin);
      });
  });
})();
