// Suggestions for the search page's box as the user types: asked (debounced) from
// /api/v1/suggest and offered through the input's datalist. Without scripts the page works
// the same, only without suggestions.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("q-suggestions");
  if (!input || !list) { return; }
  var timer = null;
  var asked = "";
  function fill(suggestions) {
    list.replaceChildren();
    suggestions.forEach(function (s) {
      var option = document.createElement("option");
      option.value = s.value;
      option.label = s.label;
      list.appendChild(option);
    });
  }
  function ask() {
    var q = input.value.trim();
    if (q === asked) { return; }
    asked = q;
    if (q.length < 2) { fill([]); return; }
    fetch(list.dataset.source + "?q=" + encodeURIComponent(q), {headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {suggestions: []}; })
      .then(function (data) { if (data.q === input.value.trim()) { fill(data.suggestions); } })
      .catch(function () { fill([]); });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  });
}());
