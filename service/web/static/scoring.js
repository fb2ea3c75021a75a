// The scoring page: answer with the keyboard, and see the score the server computes.
// No scoring happens here: every change asks the server's preview, which runs the rules.
(function () {
  "use strict";
  var form = document.getElementById("score-form");
  if (!form) { return; }
  var token = form.querySelector("input[name=csrf_token]").value;
  var KEYS = { y: "yes", n: "no", a: "na" };
  var WORDS = JSON.parse(form.dataset.words);  // in the page's language
  var timer = null;
  var asked = 0;

  function answers() {
    var found = {};
    form.querySelectorAll("fieldset.question").forEach(function (question) {
      var checked = question.querySelector("input:checked");
      if (checked) {
        found[question.dataset.key] = /^-?\d+$/.test(checked.value) ? parseInt(checked.value, 10) : checked.value;
      }
    });
    return found;
  }

  function text(id, value) { document.getElementById(id).textContent = value; }
  function figure(score) { return String(score).replace(".", WORDS.point); }  // "87,50" in Italian

  function show(data, ok) {
    var problem = document.getElementById("live-problem");
    problem.hidden = ok;
    if (!ok) {
      var errors = (data.errors && data.errors.answers) || {};
      problem.textContent = Object.keys(errors).length
        ? Object.keys(errors).map(function (key) { return key + ": " + errors[key].join(", "); }).join("; ")
        : (data.message || WORDS.unscorable);
      return;
    }
    text("live-score", data.score === null ? "–" : figure(data.score));
    text("live-passed", data.passed === null ? "–" : (data.passed ? WORDS.passed : WORDS.failed));
    text("live-critical", data.critical_errors.length
      ? data.critical_errors.map(function (category) { return WORDS[category] || category; }).join(", ")
      : WORDS.none);
    var missing = data.missing.length;
    text("live-missing", missing
      ? (missing === 1 ? WORDS.one : WORDS.many).replace("%(num)s", missing)
      : WORDS.done);
    form.querySelectorAll("[data-section]").forEach(function (section) {
      var score = data.section_scores[section.dataset.section];
      section.textContent = score === undefined ? "–" : (score === null ? WORDS.na : figure(score));
    });
  }

  function preview() {
    var mine = ++asked;
    fetch(form.dataset.preview, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({
        contract_id: form.dataset.contract,
        period: form.dataset.period,
        call_at: form.querySelector("[name=call_at]").value,
        answers: answers()
      })
    }).then(function (response) {
      return response.json().then(function (data) {
        if (mine === asked) { show(data, response.ok); }  // only the latest answer counts
      });
    });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(preview, 200);
  }

  form.addEventListener("change", soon);
  form.addEventListener("keydown", function (event) {
    var question = event.target.closest && event.target.closest("fieldset.question");
    if (!question || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key.toLowerCase();
    var value = KEYS[key] || (/^\d$/.test(key) ? key : null);
    var input = value && question.querySelector('input[value="' + value + '"]');
    if (!input) { return; }
    event.preventDefault();
    input.checked = true;
    input.focus();
    soon();
  });
  preview();
}());
