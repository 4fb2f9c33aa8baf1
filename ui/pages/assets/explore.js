// explore.js offers names as you type a query on the explore page: metric
// and function names, label names after "{" or ",", label values after
// label="; from the page's own list and outpost's Prometheus API
// (/api/v1/labels, /api/v1/label/NAME/values), on the page's own origin
// only. Without it, the page's <datalist> offers the metric names.
"use strict";
(function () {
  var FUNCS = ["abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes", "clamp",
    "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "delta", "deriv", "floor", "group",
    "histogram_quantile", "holt_winters", "idelta", "increase", "irate", "label_join", "label_replace", "last_over_time",
    "limitk", "ln", "log10", "log2", "max", "max_over_time", "median", "min", "min_over_time", "predict_linear",
    "quantile", "quantile_over_time", "rate", "resets", "round", "scalar", "sort", "sort_desc", "sqrt", "stddev",
    "stddev_over_time", "sum", "sum_over_time", "time", "timestamp", "topk", "vector", "without", "by", "on", "ignoring",
    "group_left", "group_right", "offset", "rollup", "range_avg", "running_sum", "keep_last_value", "interpolate"];
  var MAX_SHOWN = 50;

  function init() {
    var input = document.getElementById("explore-q");
    var box = document.getElementById("explore-suggest");
    if (!input || !box || !window.fetch || !window.URLSearchParams) return;
    var names = [].map.call(document.querySelectorAll("#explore-metrics option"), function (o) { return o.value; });
    var namesCut = document.querySelectorAll("#explore-metrics option").length >= 2000;
    input.removeAttribute("list"); // this list replaces the browser's
    var cache = {}, ctrl = null, items = [], active = -1, cur = null, accepted = false;

    function api(path, params) {
      params.set("start", input.getAttribute("data-start"));
      params.set("end", input.getAttribute("data-end"));
      var url = path + "?" + params.toString();
      if (cache[url]) return Promise.resolve(cache[url]);
      if (ctrl) ctrl.abort();
      ctrl = new AbortController();
      return fetch(url, { credentials: "same-origin", signal: ctrl.signal, headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          var out = j && j.status === "success" && Array.isArray(j.data) ? j.data : [];
          cache[url] = out;
          return out;
        })
        .catch(function () { return []; });
    }

    // context reads what is being typed at pos: a metric or function name,
    // a label name inside {} or by (...), or a label value inside quotes.
    function context(text, pos) {
      var s = text.slice(0, pos), quote = null, strStart = 0, braces = [], square = 0;
      for (var i = 0; i < s.length; i++) {
        var c = s[i];
        if (quote) {
          if (c === "\\") i++;
          else if (c === quote) quote = null;
          continue;
        }
        if (c === '"' || c === "'" || c === "`") { quote = c; strStart = i + 1; }
        else if (c === "{") braces.push(i);
        else if (c === "}") braces.pop();
        else if (c === "[") square++;
        else if (c === "]") square = Math.max(0, square - 1);
      }
      if (square > 0) return null;
      var brace = braces.length ? braces[braces.length - 1] : -1;
      var metric = brace >= 0 ? (/([A-Za-z_:][A-Za-z0-9_:]*)\s*$/.exec(s.slice(0, brace)) || [])[1] : undefined;
      if (quote) {
        if (brace < 0 || strStart <= brace) return null;
        var m = /([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*$/.exec(s.slice(brace + 1, strStart - 1));
        if (!m) return null;
        return { kind: "value", label: m[1], metric: metric, quote: quote, start: strStart, prefix: s.slice(strStart) };
      }
      var word = (/[A-Za-z_:][A-Za-z0-9_:]*$/.exec(s) || [""])[0];
      var before = s.slice(0, s.length - word.length);
      if (brace >= 0) {
        if (!/[{,]\s*$/.test(before)) return null;
        return { kind: "label", metric: metric, start: before.length, prefix: word };
      }
      if (/\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*$/.test(before) && /[(,]\s*$/.test(before)) {
        return { kind: "label", start: before.length, prefix: word };
      }
      if (!word) return null;
      return { kind: "metric", start: before.length, prefix: word };
    }

    function rank(list, prefix, kind) {
      var p = prefix.toLowerCase(), first = [], then = [];
      list.forEach(function (v) {
        var l = String(v).toLowerCase();
        if (l === p && kind !== "value") return;
        if (l.indexOf(p) === 0) first.push(v);
        else if (p && l.indexOf(p) > 0) then.push(v);
      });
      return first.concat(then).slice(0, MAX_SHOWN);
    }

    function candidates(c) {
      var p = new URLSearchParams();
      if (c.metric) p.append("match[]", c.metric);
      switch (c.kind) {
        case "value":
          p.set("limit", "1000");
          return api("/api/v1/label/" + encodeURIComponent(c.label) + "/values", p)
            .then(function (vs) { return rank(vs, c.prefix, "value").map(function (v) { return { text: v, kind: "value" }; }); });
        case "label":
          return api("/api/v1/labels", p).then(function (ls) {
            return rank(ls.filter(function (l) { return l !== "__name__"; }), c.prefix, "label")
              .map(function (l) { return { text: l, kind: "label" }; });
          });
      }
      var local = Promise.resolve(names);
      if (namesCut && c.prefix.length >= 2) {
        p.append("match[]", '{__name__=~"' + c.prefix + '.*"}');
        p.set("limit", "500");
        local = api("/api/v1/label/__name__/values", p).then(function (vs) { return vs.length ? vs : names; });
      }
      return local.then(function (ns) {
        var out = rank(ns, c.prefix, "metric").map(function (n) { return { text: n, kind: "metric" }; });
        return out.concat(rank(FUNCS, c.prefix, "metric").map(function (f) { return { text: f, kind: "function" }; }))
          .slice(0, MAX_SHOWN);
      });
    }

    function hide() {
      box.hidden = true;
      box.textContent = "";
      items = [];
      active = -1;
      input.removeAttribute("aria-activedescendant");
    }

    function show(list) {
      box.textContent = "";
      items = list;
      active = -1;
      if (!list.length) { hide(); return; }
      list.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = "explore-suggest-" + i;
        li.setAttribute("role", "option");
        li.textContent = it.text;
        var k = document.createElement("span");
        k.className = "kind";
        k.textContent = it.kind;
        li.appendChild(k);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); accept(i); });
        box.appendChild(li);
      });
      box.hidden = false;
    }

    function highlight(i) {
      var lis = box.children;
      if (active >= 0 && lis[active]) lis[active].classList.remove("on");
      active = i;
      if (active >= 0 && lis[active]) {
        lis[active].classList.add("on");
        lis[active].scrollIntoView({ block: "nearest" });
        input.setAttribute("aria-activedescendant", lis[active].id);
      }
    }

    // key names what a list of candidates depends on besides the prefix.
    function key(c) { return c ? [c.kind, c.label, c.metric].join("\u0000") : ""; }

    function update() {
      var prev = cur;
      cur = context(input.value, input.selectionStart);
      if (!cur) { hide(); return; }
      // A list of another context must not be picked from while the new
      // one is fetched.
      if (key(prev) !== key(cur)) hide();
      var asked = cur;
      candidates(cur).then(function (list) {
        if (asked === cur) show(list);
      });
    }

    function accept(i) {
      var it = items[i], c = cur;
      if (!it || !c) return;
      var v = input.value, end = input.selectionStart, ins = it.text, after = v.slice(end);
      if (c.kind === "value") {
        ins = it.text.replace(/\\/g, "\\\\").split(c.quote).join("\\" + c.quote);
        if (after[0] !== c.quote) ins += c.quote;
      } else if (it.kind === "label" && c.metric !== undefined && !/^\s*(=|!=|=~|!~)/.test(after)) {
        ins += '="';
      } else if (it.kind === "function" && after[0] !== "(") {
        ins += "(";
      }
      // Replace the rest of the word under the cursor too.
      var rest = c.kind === "value" ? "" : (/^[A-Za-z0-9_:]*/.exec(after) || [""])[0];
      input.value = v.slice(0, c.start) + ins + v.slice(end + rest.length);
      var at = c.start + ins.length;
      if (c.kind === "value" && after[0] === c.quote) at++;
      input.setSelectionRange(at, at);
      hide();
      update(); // a label name leads on to its values
    }

    // Each change updates the list at once: the lists of names are fetched
    // once per context and cached, and filtered here as you type.
    input.addEventListener("input", update);
    input.addEventListener("keydown", function (e) {
      if (e.key === " " && e.ctrlKey) { e.preventDefault(); update(); return; }
      if (box.hidden) return;
      switch (e.key) {
        case "ArrowDown": e.preventDefault(); highlight((active + 1) % items.length); break;
        case "ArrowUp": e.preventDefault(); highlight((active - 1 + items.length) % items.length); break;
        case "Tab":
          if (items.length) { e.preventDefault(); accept(active >= 0 ? active : 0); }
          break;
        case "Enter":
          if (active >= 0) {
            e.preventDefault();
            accept(active);
            // Some key sources send the Enter's keypress even so: it must
            // not submit the form with the query half typed.
            accepted = true;
            setTimeout(function () { accepted = false; }, 0);
          } else hide();
          break;
        case "Escape": e.preventDefault(); hide(); break;
      }
    });
    input.addEventListener("keypress", function (e) { if (e.key === "Enter" && accepted) e.preventDefault(); });
    if (input.form) input.form.addEventListener("submit", function (e) { if (accepted) e.preventDefault(); });
    input.addEventListener("blur", function () { setTimeout(hide, 100); });
    // The first focus puts the cursor at the end of a query the page
    // arrived with (a link, a reload), ready to be extended.
    var first = true;
    function toEnd() {
      if (first && input.value && input.selectionStart === 0 && input.selectionEnd === 0) {
        input.setSelectionRange(input.value.length, input.value.length);
      }
      first = false;
    }
    input.addEventListener("focus", toEnd);
    if (document.activeElement === input) toEnd();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
