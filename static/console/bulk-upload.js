// Bulk image upload: sends the chosen files one by one, so each is checked on its own and the
// <progress> bar moves per byte. Without this script the form still posts all files at once.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var input = document.getElementById("bulk-files");
  var box = document.getElementById("bulk-progress");
  var bar = document.getElementById("bulk-bar");
  var count = document.getElementById("bulk-count");
  var table = document.getElementById("bulk-results");
  var tbody = table.querySelector("tbody");
  var labels = table.dataset;

  function row(name, text, cls) {
    var tr = document.createElement("tr");
    var td1 = document.createElement("td");
    var td2 = document.createElement("td");
    td1.textContent = name;
    td2.textContent = text;
    tr.className = cls || "";
    tr.appendChild(td1);
    tr.appendChild(td2);
    tbody.appendChild(tr);
    return tr;
  }

  function setResult(tr, result) {
    var cell = tr.lastChild;
    cell.textContent = "";
    tr.className = result.ok ? "ok" : "fail";
    if (result.ok) {
      var a = document.createElement("a");
      a.href = result.url;
      // A duplicate of an existing image links to that material, with the server's explanation.
      a.textContent = result.created === false ? result.title : labels.labelOk + "：" + result.title;
      cell.appendChild(a);
    } else {
      cell.textContent = labels.labelFail + "：" + result.error;
    }
  }

  // The session ended: every further upload would fail the same way, so stop and offer sign-in.
  function showSignIn(message) {
    var note = document.getElementById("bulk-login");
    if (!note) {
      note = document.createElement("p");
      note.id = "bulk-login";
      note.className = "msg msg-error";
      note.setAttribute("role", "alert");
      box.parentNode.insertBefore(note, box.nextSibling);
    }
    note.textContent = message + " ";
    var a = document.createElement("a");
    a.href = labels.loginUrl;
    a.textContent = labels.labelLogin;
    note.appendChild(a);
  }

  function upload(file, onProgress) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("category", form.querySelector("[name=category]").value);
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      xhr.onload = function () {
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
        if (answer && answer.results && answer.results.length) {
          resolve(answer.results[0]);
        } else if (answer && answer.error) {
          // 401 (signed out) / 403: the server says why in Chinese; `login` asks to sign in again.
          resolve({ ok: false, error: answer.error, login: !!answer.login || xhr.status === 401 });
        } else {
          resolve({ ok: false, error: labels.labelNetwork + " (" + xhr.status + ")", login: xhr.status === 401 });
        }
      };
      xhr.onerror = function () { resolve({ ok: false, error: labels.labelNetwork }); };
      xhr.send(data);
    });
  }

  form.addEventListener("submit", async function (event) {
    var files = Array.prototype.slice.call(input.files);
    if (!files.length) return; // let the server explain what is missing
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    tbody.querySelectorAll("tr.placeholder").forEach(function (tr) { tr.remove(); });
    var rows = files.map(function (f) { return row(f.name, labels.labelWait, "waiting"); });
    var ok = 0, dup = 0, fail = 0, skipped = 0;
    box.hidden = false;
    bar.max = files.length;
    bar.value = 0;
    for (var i = 0; i < files.length; i++) {
      rows[i].lastChild.textContent = labels.labelUploading;
      count.textContent = (i + 1) + " / " + files.length;
      var done = i;
      var result = await upload(files[i], function (part) { bar.value = done + part; });
      setResult(rows[i], result);
      // A duplicate was not saved again: counted apart so 成功 means saved.
      if (result.ok && result.created === false) { dup++; } else if (result.ok) { ok++; } else { fail++; }
      bar.value = i + 1;
      if (result.login) {
        showSignIn(result.error);
        for (var j = i + 1; j < files.length; j++) {
          rows[j].lastChild.textContent = labels.labelSkipped;
          rows[j].className = "fail";
          skipped++;
        }
        break;
      }
    }
    count.textContent = (dup ? labels.labelDoneDup : labels.labelDone).replace("%(ok)s", ok)
      .replace("%(dup)s", dup).replace("%(fail)s", fail + skipped);
    input.value = "";
    button.disabled = false;
  });
})();
