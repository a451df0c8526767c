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
  // Plain forms (模拟扫码, 成员离职) carry the token rendered with the page: refresh it on submit.
  document.addEventListener(
    "submit",
    function (ev) {
      var input = ev.target.querySelector && ev.target.querySelector("input[name=csrfmiddlewaretoken]");
      if (input) input.value = csrfToken();
    },
    true
  );

  var picker = document.querySelector("[data-role=guide-picker]");
  if (picker) {
    picker.querySelector("select").addEventListener("change", function () {
      picker.submit();
    });
  }

  // Switching customer loads the page anew, as WeCom reopens the sidebar: keep the contact list where the
  // guide left it instead of jumping back to the top (and, on a first visit, show the open chat's row).
  var contacts = document.querySelector(".sim-contacts");
  var SCROLL_KEY = "sim-contacts-scroll";
  if (contacts) {
    var saved = window.sessionStorage.getItem(SCROLL_KEY);
    if (saved !== null) {
      contacts.scrollTop = parseInt(saved, 10) || 0;
    } else {
      var active = contacts.querySelector(".is-active");
      if (active) active.scrollIntoView({ block: "nearest" });
    }
    contacts.addEventListener("click", function (ev) {
      if (ev.target.closest("a.sim-contact")) window.sessionStorage.setItem(SCROLL_KEY, String(contacts.scrollTop));
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

  // From the 今日 workbench: switch this window to the chat with that customer, as WeCom does.
  function openEnterpriseChat(params) {
    var ext = String((params && params.externalUserIds) || "").split(";")[0];
    var known = document.querySelector('.sim-contact[data-external-userid="' + CSS.escape(ext) + '"]');
    if (!ext || !known) return { err_msg: "openEnterpriseChat:fail not an external contact of this member" };
    setTimeout(function () {
      location.assign(known.getAttribute("href"));
    }, 0);
    return { err_msg: "openEnterpriseChat:ok" };
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
    if (api === "openEnterpriseChat") return openEnterpriseChat(params);
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
