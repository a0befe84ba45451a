/// The admin API's `GET /dashboard` page: one self-contained HTML document (inline CSS and JavaScript, no
/// external assets) that polls `/stats`, `/backends` and `/flows` and draws listeners, backend scores and
/// live rates.
///
/// Served without authentication; the page sends `Authorization: Bearer TOKEN` on its own requests when
/// opened as `/dashboard#token=TOKEN` (the fragment never reaches the server), and `#refresh=SECONDS` sets
/// the poll period (default 2 s). Everything that comes from the API is inserted as text, never as markup.
/// `Tools/dashboard/serve-sample` serves this literal with sample data for working on the page without relayd.
enum DashboardPage {
    /// The page, as served with `Content-Type: text/html; charset=utf-8`.
    static let html: String = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>relayd dashboard</title>
        <style>
        :root {
          --bg: #f4f5f7; --panel: #ffffff; --fg: #1b2230; --muted: #677083; --faint: #98a0ae;
          --line: #e2e5ea; --head: #f7f8fa; --hover: #f0f3f8;
          --ok: #17803a; --ok-bg: #dcf3e2; --bad: #c42b2b; --bad-bg: #fbe1df;
          --unk: #5f6776; --unk-bg: #e9ebef; --warn: #9a5b00; --warn-bg: #fdefd2;
          --accent: #2f6fde; --accent2: #0e9488;
          --s-lat: #3b7be6; --s-jit: #19a7a0; --s-suc: #2fb35a; --s-bon: #9b5de5; --s-pen: #e04848;
          --bar-bg: #e8ebf0;
          --s-pen-soft: color-mix(in srgb, var(--s-pen) 45%, transparent);
          --mono: ui-monospace, "SF Mono", "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #0e1116; --panel: #161a21; --fg: #e3e7ee; --muted: #8f98a8; --faint: #646d7c;
            --line: #262c36; --head: #1a1f27; --hover: #1d232c;
            --ok: #4cc870; --ok-bg: #143321; --bad: #ff6b63; --bad-bg: #3d1a1a;
            --unk: #a3abb8; --unk-bg: #272c35; --warn: #f0b44a; --warn-bg: #3a2b10;
            --accent: #5b95f5; --accent2: #2cc2b4;
            --s-lat: #4f8cf0; --s-jit: #2bb7ae; --s-suc: #3fc46a; --s-bon: #a878ee; --s-pen: #ff6060;
            --bar-bg: #262c36;
          }
        }
        * { box-sizing: border-box; }
        html { background: var(--bg); }
        body {
          margin: 0; color: var(--fg); background: var(--bg);
          font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
          font-variant-numeric: tabular-nums;
        }
        .mono { font-family: var(--mono); font-size: 12px; }
        .muted { color: var(--muted); }
        [hidden] { display: none !important; }

        header.top {
          display: flex; align-items: stretch; gap: 0; flex-wrap: wrap;
          background: var(--panel); border-bottom: 1px solid var(--line); padding: 0 16px;
        }
        .brand { display: flex; align-items: baseline; gap: 8px; padding: 10px 18px 10px 0; margin-right: 4px; }
        .brand b { font-size: 17px; letter-spacing: 0.2px; }
        .fact {
          padding: 8px 14px;
          border-left: 1px solid var(--line);
          display: flex;
          flex-direction: column;
          justify-content: center;
        }
        .fact .k { font-size: 10px; text-transform: uppercase; letter-spacing: 0.6px; color: var(--muted); }
        .fact .v { font-size: 13px; font-weight: 600; white-space: nowrap; }
        .fact .v .muted { font-weight: 400; }
        .live {
          margin-left: auto;
          display: flex;
          align-items: center;
          gap: 7px;
          padding-left: 14px;
          color: var(--muted);
          white-space: nowrap;
        }
        .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--unk); }
        .dot.ok { background: var(--ok); box-shadow: 0 0 0 3px var(--ok-bg); }
        .dot.bad { background: var(--bad); box-shadow: 0 0 0 3px var(--bad-bg); }

        .banner { margin: 12px 16px 0; padding: 9px 12px; border-radius: 6px; border: 1px solid; font-weight: 500; }
        .banner.bad {
          color: var(--bad);
          background: var(--bad-bg);
          border-color: color-mix(in srgb, var(--bad) 35%, transparent);
        }
        .banner.warn {
          color: var(--warn);
          background: var(--warn-bg);
          border-color: color-mix(in srgb, var(--warn) 35%, transparent);
        }
        .banner .detail {
          font-family: var(--mono);
          font-size: 12px;
          font-weight: 400;
          color: var(--fg);
          margin-left: 6px;
          word-break: break-word;
        }

        main { padding: 12px 16px 20px; transition: opacity 0.3s; }
        main.stale { opacity: 0.55; }
        .grid3 { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 12px; }
        .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
        .card { padding: 10px 12px 8px; min-width: 0; }
        .card .k { font-size: 10px; text-transform: uppercase; letter-spacing: 0.6px; color: var(--muted); }
        .card .big { font-size: 22px; font-weight: 650; line-height: 1.25; }
        .card .big .unit { font-size: 13px; font-weight: 500; color: var(--muted); margin-left: 2px; }
        .card .row { display: flex; align-items: baseline; gap: 16px; }
        .card .sub { font-size: 11.5px; color: var(--muted); }
        .swatch {
          display: inline-block;
          width: 9px;
          height: 9px;
          border-radius: 2px;
          margin-right: 4px;
          vertical-align: -0.5px;
        }
        .swatch.in { background: var(--accent); }
        .swatch.out { background: var(--accent2); }
        svg.spark { display: block; width: 100%; height: 46px; margin-top: 4px; overflow: visible; }
        svg.spark text { font-size: 10px; fill: var(--faint); font-family: system-ui, sans-serif; }
        .totals { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 14px; margin-top: 4px; }
        .totals .big { font-size: 19px; }

        h2 {
          font-size: 12px;
          text-transform: uppercase;
          letter-spacing: 0.7px;
          color: var(--muted);
          margin: 16px 2px 6px;
          font-weight: 650;
          display: flex;
          align-items: baseline;
          gap: 12px;
        }
        h2 .aside { text-transform: none; letter-spacing: 0; font-weight: 400; margin-left: auto; font-size: 11.5px; }

        table { width: 100%; border-collapse: collapse; }
        th, td { padding: 4px 9px; text-align: left; white-space: nowrap; border-bottom: 1px solid var(--line); }
        th {
          font-size: 10.5px;
          text-transform: uppercase;
          letter-spacing: 0.5px;
          font-weight: 600;
          color: var(--muted);
          background: var(--head);
        }
        tbody tr:last-child td { border-bottom: 0; }
        tbody tr:hover td { background: var(--hover); }
        th.n, td.n { text-align: right; }
        td.name { font-weight: 600; }
        td.note { overflow: hidden; text-overflow: ellipsis; color: var(--muted); font-size: 12px; }
        table.fixed { table-layout: fixed; }
        table.fixed td { overflow: hidden; text-overflow: ellipsis; }
        .clip {
          display: inline-block;
          max-width: 220px;
          overflow: hidden;
          text-overflow: ellipsis;
          vertical-align: bottom;
        }
        td.warn { color: var(--warn); font-weight: 600; }
        td.badv { color: var(--bad); font-weight: 600; }
        .panel > table th:first-child, .panel > table td:first-child { padding-left: 12px; }
        .panel > table th:last-child, .panel > table td:last-child { padding-right: 12px; }
        .panel > table thead th:first-child { border-top-left-radius: 8px; }
        .panel > table thead th:last-child { border-top-right-radius: 8px; }
        .sub2 { display: block; font-size: 11px; color: var(--muted); font-weight: 400; }

        .badge {
          display: inline-block;
          padding: 1px 7px;
          border-radius: 10px;
          font-size: 11px;
          font-weight: 600;
          line-height: 16px;
        }
        .badge.up { color: var(--ok); background: var(--ok-bg); }
        .badge.down { color: var(--bad); background: var(--bad-bg); }
        .badge.unknown { color: var(--unk); background: var(--unk-bg); }
        .badge.drain { color: var(--warn); background: var(--warn-bg); }
        .badge.proto {
          color: var(--muted);
          background: var(--unk-bg);
          font-family: var(--mono);
          font-weight: 500;
          text-transform: uppercase;
          font-size: 10.5px;
        }
        .badge.algo {
          color: var(--accent);
          background: color-mix(in srgb, var(--accent) 13%, transparent);
          font-family: var(--mono);
          font-weight: 500;
        }
        .beside { font-size: 11px; color: var(--muted); margin-left: 5px; }
        .star { color: #e0a100; font-size: 13px; }
        .nostar { color: var(--line); font-size: 13px; }

        .group { margin-bottom: 12px; }
        .ghead {
          display: flex;
          align-items: center;
          flex-wrap: wrap;
          gap: 8px 14px;
          padding: 9px 12px;
          border-bottom: 1px solid var(--line);
        }
        .ghead h3 { margin: 0; font-size: 14px; font-weight: 650; }
        .ghead .meta { color: var(--muted); font-size: 12px; }
        .ghead .meta b { color: var(--fg); font-weight: 600; }
        .chips { display: inline-flex; gap: 4px; flex-wrap: wrap; }
        .chip {
          font-family: var(--mono);
          font-size: 11px;
          padding: 1px 6px;
          border-radius: 4px;
          background: var(--unk-bg);
        }

        .score { display: inline-flex; align-items: center; gap: 8px; }
        .score .num { display: inline-block; width: 40px; text-align: right; font-weight: 600; }
        .bar {
          position: relative;
          display: inline-block;
          width: 130px;
          height: 9px;
          border-radius: 3px;
          background: var(--bar-bg);
          overflow: hidden;
        }
        .bar span { position: absolute; top: 0; bottom: 0; }
        .bar .lat { background: var(--s-lat); }
        .bar .jit { background: var(--s-jit); }
        .bar .suc { background: var(--s-suc); }
        .bar .bon { background: var(--s-bon); }
        .bar .pen {
          background: repeating-linear-gradient(135deg, var(--s-pen) 0 3px, var(--s-pen-soft) 3px 6px);
        }
        .legend {
          display: inline-flex;
          gap: 12px;
          text-transform: none;
          letter-spacing: 0;
          font-weight: 400;
          font-size: 11.5px;
        }
        .legend .swatch.pen {
          background: repeating-linear-gradient(135deg, var(--s-pen) 0 2px, var(--s-pen-soft) 2px 4px);
        }
        tr.down td { background: color-mix(in srgb, var(--bad-bg) 40%, transparent); }

        .empty { padding: 14px 12px; color: var(--muted); }
        .more { padding: 6px 12px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); }
        footer { padding: 0 18px 16px; color: var(--faint); font-size: 11.5px; }
        </style>
        </head>
        <body>
        <header class="top">
          <div class="brand"><b>relayd</b><span class="muted" id="version"></span></div>
          <div class="fact"><span class="k">Uptime</span><span class="v" id="uptime">—</span></div>
          <div class="fact"><span class="k">Config</span><span class="v" id="config">—</span></div>
          <div class="fact"><span class="k">Last reload</span><span class="v" id="reload">—</span></div>
          <div class="fact"><span class="k">RSS</span><span class="v" id="rss">—</span></div>
          <div class="fact"><span class="k">CPU</span><span class="v" id="cpu">—</span></div>
          <div class="fact"><span class="k">Open fds</span><span class="v" id="fds">—</span></div>
          <div class="fact"><span class="k">Threads</span><span class="v" id="threads">—</span></div>
          <div class="live"><span class="dot" id="dot"></span><span id="updated">connecting…</span></div>
        </header>
        <div class="banner bad" id="banner" hidden></div>
        <div class="banner warn" id="reload-banner" hidden></div>
        <noscript><div class="banner bad">This page needs JavaScript to fetch relayd's statistics.</div></noscript>
        <main id="main">
          <div class="grid3">
            <div class="panel card">
              <div class="k">New connections / s</div>
              <div class="row"><div class="big" id="conn-rate">—</div><div class="sub" id="conn-sub"></div></div>
              <svg class="spark" id="spark-conns" viewBox="0 0 300 46" preserveAspectRatio="none"></svg>
            </div>
            <div class="panel card">
              <div class="k">Throughput</div>
              <div class="row">
                <div class="big" id="bytes-rate">—</div>
                <div class="sub"><span class="swatch in"></span>in <span id="bytes-in">—</span></div>
                <div class="sub"><span class="swatch out"></span>out <span id="bytes-out">—</span></div>
              </div>
              <svg class="spark" id="spark-bytes" viewBox="0 0 300 46" preserveAspectRatio="none"></svg>
            </div>
            <div class="panel card">
              <div class="k">Now</div>
              <div class="totals">
                <div><div class="big" id="tot-active">—</div><div class="sub">active TCP connections</div></div>
                <div><div class="big" id="tot-flows">—</div><div class="sub">active UDP flows</div></div>
                <div><div class="big" id="tot-servers">—</div><div class="sub">servers up</div></div>
                <div><div class="big" id="tot-refused">—</div><div class="sub">refused + dropped / s</div></div>
              </div>
            </div>
          </div>

          <h2>Listeners
            <span class="aside muted">rates between the last two polls · in = from clients, out = to clients</span>
          </h2>
          <div class="panel">
            <table>
              <thead><tr>
                <th>Name</th><th>Proto</th><th>Address</th><th>Backend</th>
                <th class="n">Active</th><th class="n">New / s</th><th class="n">In / s</th><th class="n">Out / s</th>
                <th class="n">Datagrams / s</th><th class="n">Refused / drops</th>
                <th class="n">Duration p50 · p95 · p99</th>
              </tr></thead>
              <tbody id="listeners"><tr><td colspan="11" class="empty">Waiting for data…</td></tr></tbody>
            </table>
          </div>

          <h2>Backends
            <span class="aside legend">
              <span><span class="swatch" style="background:var(--s-lat)"></span>latency</span>
              <span><span class="swatch" style="background:var(--s-jit)"></span>jitter</span>
              <span><span class="swatch" style="background:var(--s-suc)"></span>success</span>
              <span><span class="swatch" style="background:var(--s-bon)"></span>bonus</span>
              <span><span class="swatch pen"></span>penalty</span>
              <span class="muted">★ in active set</span>
            </span>
          </h2>
          <div id="groups"><div class="panel empty">Waiting for data…</div></div>

          <section id="flows-section" hidden>
            <h2>UDP flows <span class="aside muted">most recently active first</span></h2>
            <div id="flows"></div>
          </section>
        </main>
        <footer id="footer">Refreshes every 2 s from /stats, /backends and /flows.</footer>

        <script>
        "use strict";
        (() => {
          const HISTORY = 60;
          const MAX_FLOWS_SHOWN = 12;
          const $ = (id) => document.getElementById(id);

          // Options live in the fragment, so they never reach a server log: #token=SECRET&refresh=5
          function readOptions() {
            const o = { token: "", interval: 2000 };
            for (const part of location.hash.replace(/^#/, "").split("&")) {
              const eq = part.indexOf("=");
              if (eq < 0) continue;
              const key = part.slice(0, eq);
              let value = part.slice(eq + 1);
              try { value = decodeURIComponent(value); } catch (e) { /* keep it raw */ }
              if (key === "token") o.token = value.trim();
              if (key === "refresh") {
                const s = parseFloat(value);
                if (isFinite(s) && s >= 0.1) o.interval = s * 1000;
              }
            }
            return o;
          }
          let options = readOptions();

          // ---------------------------------------------------------------- formatting
          const intFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
          const isNum = (v) => typeof v === "number" && isFinite(v);
          const dash = "—";
          function fmtInt(v) { return isNum(v) ? intFormat.format(v) : dash; }
          function fmtRate(v) {
            if (!isNum(v)) return dash;
            if (v >= 1e6) return (v / 1e6).toFixed(v >= 1e7 ? 0 : 1) + "M";
            if (v >= 1e4) return (v / 1e3).toFixed(v >= 1e5 ? 0 : 1) + "k";
            if (v >= 100 || v === 0) return intFormat.format(v);
            if (v >= 10) return v.toFixed(1);
            return v.toFixed(2);
          }
          function fmtBytes(v) {
            if (!isNum(v)) return dash;
            const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
            let i = 0;
            while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
            const digits = i === 0 || Math.abs(v) >= 100 ? 0 : 1;
            return v.toFixed(digits) + " " + units[i];
          }
          function fmtBps(v) { return isNum(v) ? fmtBytes(v) + "/s" : dash; }
          function fmtMs(v) {
            if (!isNum(v)) return dash;
            return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + " ms";
          }
          function fmtSeconds(s) {
            if (!isNum(s)) return dash;
            if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 1 : 0) + " ms";
            if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
            return fmtAge(s);
          }
          function fmtAge(s) {
            if (!isNum(s)) return dash;
            s = Math.max(0, Math.floor(s));
            const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
            const m = Math.floor(s % 3600 / 60), sec = s % 60;
            const two = (n) => String(n).padStart(2, "0");
            if (d > 0) return d + "d " + h + "h " + two(m) + "m";
            if (h > 0) return h + "h " + two(m) + "m";
            if (m > 0) return m + "m " + two(sec) + "s";
            return sec + "s";
          }
          function fmtPercent(v, digits) { return isNum(v) ? v.toFixed(digits) + "%" : dash; }
          const words = (key) => String(key).replace(/_/g, " ");
          const REFUSAL_NAMES = {
            max_connections: "max connections", max_connections_per_ip: "per-IP limit", no_backend: "no backend",
            flow_limit: "flow limit", send_failed: "send failed",
          };

          // ---------------------------------------------------------------- DOM building (text only, never HTML)
          function el(tag, className, ...children) {
            const node = document.createElement(tag);
            if (className) node.className = className;
            for (const child of children) {
              if (child === null || child === undefined) continue;
              node.append(child instanceof Node ? child : String(child));
            }
            return node;
          }
          function td(className, ...children) { return el("td", className, ...children); }
          // Names and addresses from the API: cut with an ellipsis when long, shown whole on hover.
          function clip(value, className) {
            const text = String(value ?? "");
            const node = el("span", "clip" + (className ? " " + className : ""), text);
            node.title = text;
            return node;
          }
          function setText(id, text) { $(id).textContent = text; }
          function replaceChildren(node, children) { node.replaceChildren(...children); }
          const SVG = "http://www.w3.org/2000/svg";
          function svgEl(tag, attributes) {
            const node = document.createElementNS(SVG, tag);
            for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
            return node;
          }

          // ---------------------------------------------------------------- rates
          // Counters are turned into rates between two polls. The time base is relayd's own uptime when /stats
          // answered (so slow fetches do not skew rates), the browser's clock otherwise.
          let previous = null;   // { instance, t, stats, backends }
          const history = [];    // { conns, bytesIn, bytesOut }
          function rate(current, before, dt) {
            if (!isNum(current) || !isNum(before) || !isNum(dt) || dt <= 0 || current < before) return null;
            return (current - before) / dt;
          }
          function sum(values) {
            let total = 0, any = false;
            for (const v of values) if (isNum(v)) { total += v; any = true; }
            return any ? total : null;
          }
          function sumObject(object) {
            return object && typeof object === "object" ? sum(Object.values(object)) : null;
          }

          // ---------------------------------------------------------------- fetching
          async function getJSON(path) {
            const headers = { "Accept": "application/json" };
            if (options.token) headers["Authorization"] = "Bearer " + options.token;
            let response;
            try {
              const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(5000) : undefined;
              response = await fetch(path, { headers, cache: "no-store", signal });
            } catch (error) {
              return { error: "network", path };
            }
            const status = response.status;
            if (status === 401 || status === 403) return { error: "auth", status, path };
            if (!response.ok) return { error: "http", status, path };
            try {
              return { data: await response.json(), path };
            } catch (error) {
              return { error: "json", path };
            }
          }

          let timer = null;
          let running = false;
          let lastSuccess = null;
          let flowsAvailable = true;
          let flowsMissingPolls = 0;

          async function poll() {
            if (running) return;
            running = true;
            clearTimeout(timer);
            // /flows is optional: after a 404 it is asked again only every 15th poll.
            const askFlows = flowsAvailable || ++flowsMissingPolls % 15 === 0;
            try {
              const [stats, backends, flows] = await Promise.all([
                getJSON("/stats"), getJSON("/backends"), askFlows ? getJSON("/flows") : Promise.resolve(null),
              ]);
              update(stats, backends, flows);
            } catch (error) {
              showBanner("The dashboard failed to draw: " + (error && error.message ? error.message : error), null);
              console.error(error);
            } finally {
              running = false;
              timer = setTimeout(poll, options.interval);
            }
          }

          function showBanner(message, detail) {
            const banner = $("banner");
            if (!message) { banner.hidden = true; return; }
            replaceChildren(banner, [message, detail ? el("span", "detail", detail) : null].filter(Boolean));
            banner.hidden = false;
          }

          function update(stats, backends, flows) {
            const results = [stats, backends];
            const auth = results.find((r) => r.error === "auth");
            const network = results.find((r) => r.error === "network");
            const other = results.find((r) => r.error === "http" || r.error === "json");
            const every = " Retrying every " + options.interval / 1000 + " s.";
            if (auth) {
              showBanner("This admin API needs a token: open " + location.pathname + "#token=… (HTTP " + auth.status
                + " from " + auth.path + ")." + every, null);
            } else if (network) {
              showBanner("relayd is not answering (" + network.path + " failed)." + every, null);
            } else if (other) {
              const what = other.error === "json" ? " did not return JSON." : " answered HTTP " + other.status + ".";
              showBanner(other.path + what + every, null);
            } else {
              showBanner(null);
            }
            const ok = !stats.error;
            $("main").classList.toggle("stale", !ok);
            $("dot").className = "dot " + (ok && !backends.error ? "ok" : "bad");
            if (ok) lastSuccess = new Date();
            setText("updated", lastSuccess
              ? (ok ? "live · " : "stale · ") + "updated " + lastSuccess.toLocaleTimeString([], { hour12: false })
              : "no data yet");

            if (flows) {
              if (flows.error === "http" && flows.status === 404) { flowsAvailable = false; flows = null; }
              else if (!flows.error) { flowsAvailable = true; }
            }
            if (!ok && backends.error) return;

            // Rates need two samples of the same relayd process.
            const s = ok ? stats.data : null;
            const b = backends.error ? null : backends.data;
            const instance = s ? String(s.started_at) : previous ? previous.instance : null;
            const t = s && isNum(s.uptime_seconds) ? { base: "uptime", value: s.uptime_seconds }
              : { base: "clock", value: performance.now() / 1000 };
            let dt = null;
            const same = previous && previous.instance === instance && previous.t.base === t.base;
            if (same) dt = t.value - previous.t.value;
            if (previous && previous.instance !== instance) history.length = 0;
            const before = dt !== null && dt > 0 ? previous : null;

            if (s) renderStats(s, before ? before.stats : null, dt);
            if (b) renderBackends(b, before ? before.backends : null, dt, s);
            if (flows && !flows.error) renderFlows(flows.data);
            $("flows-section").hidden = !(flowsAvailable && flows && !flows.error && hasFlows(flows.data));

            previous = {
              instance, t,
              stats: s || (previous ? previous.stats : null),
              backends: b || (previous ? previous.backends : null),
            };
          }

          // ---------------------------------------------------------------- header, overview, listeners
          function renderStats(s, before, dt) {
            setText("version", s.version ? "v" + s.version : "");
            document.title = "relayd" + (s.version ? " " + s.version : "") + " · dashboard";
            setText("uptime", fmtAge(s.uptime_seconds));

            const config = s.config || {};
            const configValue = $("config");
            const path = config.path ? String(config.path).split("/").pop() : "";
            replaceChildren(configValue, ["gen " + fmtInt(config.generation)]);
            if (path) configValue.append(el("span", "muted", " · " + path));
            configValue.title = config.path ? String(config.path) : "";

            const serverNow = Date.parse(s.started_at) / 1000 + (s.uptime_seconds || 0);
            const last = config.last_reload;
            const reloads = config.reloads || {};
            const reloadValue = $("reload");
            const counts = el("span", "muted",
              " · " + fmtInt(reloads.success) + " ok, " + fmtInt(reloads.failure) + " failed");
            if (last && last.result) {
              const failed = last.result !== "success";
              const ago = serverNow - Date.parse(last.at) / 1000;
              replaceChildren(reloadValue, [
                el("span", "badge " + (failed ? "down" : "up"), failed ? String(last.result) : "ok"),
                " " + (isNum(ago) ? fmtAge(ago) + " ago" : ""), counts,
              ]);
              const reloadBanner = $("reload-banner");
              if (failed) {
                replaceChildren(reloadBanner, [
                  "Last configuration reload failed " + (isNum(ago) ? fmtAge(ago) + " ago" : "")
                    + "; relayd keeps running generation " + fmtInt(config.generation) + ".",
                  last.error ? el("span", "detail", String(last.error)) : null,
                ].filter(Boolean));
              }
              reloadBanner.hidden = !failed;
            } else {
              replaceChildren(reloadValue, ["never", counts]);
              $("reload-banner").hidden = true;
            }

            const p = s.process || {};
            const pb = before && before.process ? before.process : {};
            setText("rss", fmtBytes(p.rss_bytes));
            const cpu = rate(p.cpu_seconds, pb.cpu_seconds, dt);
            setText("cpu", isNum(cpu) ? fmtPercent(cpu * 100, 1) : dash);
            replaceChildren($("fds"), [fmtInt(p.open_fds)]);
            if (isNum(p.max_fds)) $("fds").append(el("span", "muted", " / " + fmtInt(p.max_fds)));
            setText("threads", fmtInt(p.threads));

            // Listeners.
            const listeners = Array.isArray(s.listeners) ? s.listeners : [];
            const oldListeners = new Map();
            if (before && Array.isArray(before.listeners)) {
              for (const l of before.listeners) oldListeners.set(l.protocol + "/" + l.name, l);
            }
            let conns = 0, bytesIn = 0, bytesOut = 0, losses = 0;
            const haveRates = before !== null && isNum(dt) && dt > 0;
            let activeConns = 0, activeFlows = 0, anyUdp = false;
            const rows = [];
            for (const l of listeners) {
              const o = oldListeners.get(l.protocol + "/" + l.name) || {};
              const udp = l.udp || null;
              const c = l.connections || null;
              const oc = o.connections || {};
              const ou = o.udp || {};
              const inRate = rate(l.bytes && l.bytes.in, o.bytes && o.bytes.in, dt);
              const outRate = rate(l.bytes && l.bytes.out, o.bytes && o.bytes.out, dt);
              let active, newRate, refused, refusedParts, refusedRate;
              if (udp) {
                anyUdp = true;
                active = udp.flows_active;
                newRate = rate(udp.flows_total, ou.flows_total, dt);
                refusedParts = udp.drops;
                refused = sumObject(udp.drops);
                refusedRate = rate(refused, sumObject(ou.drops), dt);
                if (isNum(active)) activeFlows += active;
              } else {
                active = c ? c.active : null;
                newRate = rate(c && c.total, oc.total, dt);
                refusedParts = c ? c.refused : null;
                refused = sumObject(refusedParts);
                refusedRate = rate(refused, sumObject(oc.refused), dt);
                if (isNum(active)) activeConns += active;
                if (isNum(newRate)) conns += newRate;
              }
              if (isNum(inRate)) bytesIn += inRate;
              if (isNum(outRate)) bytesOut += outRate;
              if (isNum(refusedRate)) losses += refusedRate;

              const datagrams = udp
                ? [fmtRate(rate(udp.datagrams_in, ou.datagrams_in, dt)) + " in", el("span", "sub2",
                  fmtRate(rate(udp.datagrams_out, ou.datagrams_out, dt)) + " out")]
                : [el("span", "muted", dash)];
              const refusedCell = td("n" + (isNum(refused) && refused > 0 ? " warn" : ""), fmtInt(refused));
              const parts = refusedParts && typeof refusedParts === "object"
                ? Object.entries(refusedParts).filter(([, v]) => isNum(v) && v > 0)
                  .map(([k, v]) => fmtInt(v) + " " + (REFUSAL_NAMES[k] || words(k))) : [];
              if (parts.length) refusedCell.append(el("span", "sub2", parts.join(", ")));
              const d = l.connection_duration_seconds;
              const duration = d ? [fmtSeconds(d.p50), " · ", fmtSeconds(d.p95), " · ", fmtSeconds(d.p99)]
                : [el("span", "muted", dash)];

              rows.push(el("tr", null,
                td("name", clip(l.name)),
                td(null, el("span", "badge proto", String(l.protocol || "?"))),
                td("mono", clip(l.address)),
                td(null, clip(l.backend)),
                td("n", fmtInt(active), udp ? el("span", "sub2", "flows") : null),
                td("n", fmtRate(newRate), udp ? el("span", "sub2", "new flows") : null),
                td("n", fmtBps(inRate)),
                td("n", fmtBps(outRate)),
                td("n", ...datagrams),
                refusedCell,
                td("n", ...duration),
              ));
            }
            if (!rows.length) {
              const cell = el("td", "empty", "No listeners.");
              cell.colSpan = 11;
              rows.push(el("tr", null, cell));
            }
            replaceChildren($("listeners"), rows);

            // Overview cards and history.
            setText("tot-active", fmtInt(activeConns));
            setText("tot-flows", anyUdp ? fmtInt(activeFlows) : dash);
            if (haveRates) {
              history.push({ conns, bytesIn, bytesOut });
              while (history.length > HISTORY) history.shift();
              setText("tot-refused", fmtRate(losses));
            }
            const latest = history.length ? history[history.length - 1] : null;
            setText("conn-rate", latest ? fmtRate(latest.conns) : dash);
            setText("bytes-rate", latest ? fmtBps(latest.bytesIn + latest.bytesOut) : dash);
            setText("bytes-in", latest ? fmtBps(latest.bytesIn) : dash);
            setText("bytes-out", latest ? fmtBps(latest.bytesOut) : dash);
            const peak = history.reduce((m, h) => Math.max(m, h.conns), 0);
            setText("conn-sub", history.length ? "peak " + fmtRate(peak) + " over the last " + history.length + " polls"
              : "");
            drawSparkline($("spark-conns"), [{ values: history.map((h) => h.conns), color: "var(--accent)" }], fmtRate);
            drawSparkline($("spark-bytes"), [
              { values: history.map((h) => h.bytesIn), color: "var(--accent)" },
              { values: history.map((h) => h.bytesOut), color: "var(--accent2)" },
            ], fmtBps);
          }

          // Draws lines on a fixed HISTORY-slot axis, newest at the right edge, scaled to the largest value shown.
          function drawSparkline(svg, series, format) {
            const W = 300, H = 46, top = 4, bottom = 1;
            const nodes = [];
            const count = Math.max(0, ...series.map((s) => s.values.length));
            if (count < 2) {
              nodes.push(svgEl("text", { x: 0, y: H / 2 + 4 }));
              nodes[0].textContent = "collecting…";
              svg.replaceChildren(...nodes);
              return;
            }
            let max = 0;
            for (const s of series) for (const v of s.values) if (v > max) max = v;
            max = max > 0 ? max * 1.08 : 1;
            const x = (i, n) => W - (n - 1 - i) * (W / (HISTORY - 1));
            const y = (v) => top + (H - top - bottom) * (1 - v / max);
            nodes.push(svgEl("line", { x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5, stroke: "var(--line)",
              "vector-effect": "non-scaling-stroke" }));
            for (const s of series) {
              const n = s.values.length;
              if (n < 2) continue;
              let line = "";
              s.values.forEach((v, i) => { line += (i ? " L" : "M") + x(i, n).toFixed(1) + "," + y(v).toFixed(1); });
              const area = line + " L" + x(n - 1, n).toFixed(1) + "," + H + " L" + x(0, n).toFixed(1) + "," + H + " Z";
              const opacity = series.length > 1 ? 0.08 : 0.12;
              nodes.push(svgEl("path", { d: area, fill: s.color, "fill-opacity": opacity, stroke: "none" }));
              nodes.push(svgEl("path", { d: line, fill: "none", stroke: s.color, "stroke-width": 1.5,
                "stroke-linejoin": "round", "vector-effect": "non-scaling-stroke" }));
            }
            svg.replaceChildren(...nodes);
            svg.setAttribute("aria-label", "peak " + format(max / 1.08));
          }

          // ---------------------------------------------------------------- backends
          function renderBackends(b, before, dt, stats) {
            const groups = Array.isArray(b.groups) ? b.groups : [];
            const oldServers = new Map();
            if (before && Array.isArray(before.groups)) {
              for (const g of before.groups) {
                for (const sv of g.servers || []) oldServers.set(g.name + "\n" + sv.address, sv);
              }
            }
            const usedBy = new Map();
            if (stats && Array.isArray(stats.listeners)) {
              for (const l of stats.listeners) {
                if (!usedBy.has(l.backend)) usedBy.set(l.backend, []);
                usedBy.get(l.backend).push(String(l.name));
              }
            }
            let up = 0, total = 0;
            const cards = [];
            for (const g of groups) {
              const servers = Array.isArray(g.servers) ? g.servers : [];
              const healthy = servers.filter((sv) => sv.state === "up").length;
              up += healthy;
              total += servers.length;
              const head = el("div", "ghead",
                el("h3", null, clip(g.name)),
                el("span", "badge algo", String(g.balance || "?")),
                el("span", "meta", el("b", null, healthy + "/" + servers.length), " up"),
              );
              if (isNum(g.active_set_generation) || isNum(g.selector_switches)) {
                head.append(el("span", "meta", "active set gen ", el("b", null, fmtInt(g.active_set_generation)),
                  " · ", el("b", null, fmtInt(g.selector_switches)), " switches"));
              }
              const users = usedBy.get(g.name);
              if (users && users.length) {
                head.append(el("span", "meta", "listeners: ", el("b", null, users.join(", "))));
              }
              const activeSet = Array.isArray(g.active_set) ? g.active_set : [];
              head.append(el("span", "meta", "active set:"),
                activeSet.length ? el("span", "chips", ...activeSet.map((a) => el("span", "chip", String(a))))
                  : el("span", "badge down", "empty"));

              const rows = servers.map((sv) => {
                const o = oldServers.get(g.name + "\n" + sv.address) || {};
                const drain = sv.admin_state === "drain";
                const state = ["up", "down", "unknown"].includes(sv.state) ? sv.state : "unknown";
                const stateCell = td(null, el("span", "badge " + (drain ? "drain" : state), drain ? "drain" : state));
                if (drain) stateCell.append(el("span", "beside", state));
                const inSet = sv.in_active_set === true;
                const success = isNum(sv.success_rate) ? sv.success_rate * 100 : null;
                const note = sv.down_reason || sv.last_error || "";
                const noteCell = td("note", note ? String(note) : "");
                noteCell.title = sv.down_reason && sv.last_error
                  ? String(sv.down_reason) + " — last error: " + String(sv.last_error) : String(note);
                const latencyCell = td("n", fmtMs(sv.latency_ms));
                if (isNum(sv.connect_ms)) latencyCell.title = "connect " + fmtMs(sv.connect_ms);
                const row = el("tr", state === "down" && !drain ? "down" : null,
                  td(null, el("span", inSet ? "star" : "nostar", inSet ? "★" : "☆")),
                  td("mono", clip(sv.address)),
                  stateCell,
                  td("n", fmtInt(sv.weight)),
                  td(null, scoreCell(sv)),
                  latencyCell,
                  td("n", fmtMs(sv.jitter_ms)),
                  td("n", fmtMs(sv.ttfb_ms)),
                  td("n" + (isNum(success) && success < 95 ? " warn" : ""),
                    isNum(success) ? fmtPercent(success, success >= 99.95 ? 0 : 1) : dash),
                  td("n" + (sv.consecutive_failures > 0 ? " badv" : ""), fmtInt(sv.consecutive_failures)),
                  activeCell(sv),
                  td("n", fmtRate(rate(sv.connections_total, o.connections_total, dt))),
                  noteCell,
                );
                return row;
              });
              // Fixed column widths, so the tables of all groups line up.
              const colgroup = el("colgroup", null,
                ...[36, 140, 104, 40, 204, 74, 72, 74, 70, 50, 112, 68, null].map((width) => {
                  const col = el("col");
                  if (width) col.style.width = width + "px";
                  return col;
                }));
              const table = el("table", "fixed", colgroup,
                el("thead", null, el("tr", null,
                  el("th", null, ""), el("th", null, "Server"), el("th", null, "State"), el("th", "n", "Wt"),
                  el("th", null, "Score"), el("th", "n", "Latency"), el("th", "n", "Jitter"), el("th", "n", "TTFB"),
                  el("th", "n", "Success"), el("th", "n", "Fails"), el("th", "n", "Active"), el("th", "n", "Conn / s"),
                  el("th", null, "Down reason / last error"))),
                el("tbody", null, ...(rows.length ? rows : [el("tr", null, el("td", "empty", "No servers."))])));
              cards.push(el("div", "panel group", head, table));
            }
            if (!cards.length) cards.push(el("div", "panel empty", "No backend groups."));
            replaceChildren($("groups"), cards);
            setText("tot-servers", total ? up + " / " + total : dash);
          }

          // Open connections, and the warm ones of the server's connection pool when it has one.
          function activeCell(sv) {
            const cell = td("n", fmtInt(sv.connections_active));
            const pool = sv.pool;
            if (pool && typeof pool === "object") {
              cell.append(el("span", "beside", "+" + fmtInt(pool.available) + " warm"));
              cell.title = "connection pool: " + fmtInt(pool.available) + " warm of size " + fmtInt(pool.size)
                + ", " + fmtInt(pool.hits) + " hits, " + fmtInt(pool.misses) + " misses, peak "
                + fmtInt(pool.peak_concurrency);
            }
            return cell;
          }

          function scoreCell(sv) {
            const sc = sv.score || {};
            const measured = sv.state !== "unknown" || isNum(sv.latency_ms);
            if (!measured || !isNum(sc.total)) {
              const wrap = el("span", "score", el("span", "num muted", dash), el("span", "bar"));
              wrap.title = "not measured yet";
              return wrap;
            }
            const parts = [["lat", sc.latency], ["jit", sc.jitter], ["suc", sc.success], ["bon", sc.bonus]];
            const positive = parts.reduce((m, [, v]) => m + (isNum(v) && v > 0 ? v : 0), 0);
            const scale = Math.max(100, positive);
            const bar = el("span", "bar");
            let left = 0;
            for (const [cls, v] of parts) {
              if (!isNum(v) || v <= 0) continue;
              const seg = el("span", cls);
              seg.style.left = (left / scale * 100) + "%";
              seg.style.width = (v / scale * 100) + "%";
              bar.append(seg);
              left += v;
            }
            // The penalty is drawn over the end of the positive parts: what is left uncovered is the total.
            if (isNum(sc.penalty) && sc.penalty > 0) {
              const width = Math.min(sc.penalty, left);
              const seg = el("span", "pen");
              seg.style.left = ((left - width) / scale * 100) + "%";
              seg.style.width = (width / scale * 100) + "%";
              bar.append(seg);
            }
            const f = (v) => (isNum(v) ? v.toFixed(1) : dash);
            const wrap = el("span", "score", el("span", "num", f(sc.total)), bar);
            wrap.title = "latency " + f(sc.latency) + " + jitter " + f(sc.jitter) + " + success " + f(sc.success)
              + " − penalty " + f(sc.penalty) + " + bonus " + f(sc.bonus) + " = " + f(sc.total);
            return wrap;
          }

          // ---------------------------------------------------------------- flows
          function hasFlows(data) {
            return data && Array.isArray(data.listeners) && data.listeners.length > 0;
          }
          function renderFlows(data) {
            const panels = [];
            for (const l of (data && Array.isArray(data.listeners) ? data.listeners : [])) {
              const flows = (Array.isArray(l.flows) ? l.flows.slice() : [])
                .sort((a, b) => (a.idle_seconds ?? Infinity) - (b.idle_seconds ?? Infinity));
              const shown = flows.slice(0, MAX_FLOWS_SHOWN);
              const rows = shown.map((f) => el("tr", null,
                td("mono", clip(f.client)), td("mono", clip(f.server)),
                td("n", fmtAge(f.age_seconds)), td("n", fmtSeconds(f.idle_seconds)),
                td("n", fmtInt(f.datagrams_in)), td("n", fmtInt(f.datagrams_out)),
                td("n", fmtBytes(f.bytes_in)), td("n", fmtBytes(f.bytes_out))));
              const panel = el("div", "panel group",
                el("div", "ghead", el("h3", null, clip(l.name)),
                  el("span", "meta", el("b", null, fmtInt(flows.length)), " flows")),
                el("table", null,
                  el("thead", null, el("tr", null,
                    el("th", null, "Client"), el("th", null, "Server"), el("th", "n", "Age"), el("th", "n", "Idle"),
                    el("th", "n", "Datagrams in"), el("th", "n", "Datagrams out"),
                    el("th", "n", "Bytes in"), el("th", "n", "Bytes out"))),
                  el("tbody", null, ...(rows.length ? rows : [el("tr", null, el("td", "empty", "No flows."))]))));
              if (flows.length > shown.length) {
                panel.append(el("div", "more", "… and " + fmtInt(flows.length - shown.length) + " more"));
              }
              panels.push(panel);
            }
            replaceChildren($("flows"), panels);
          }

          // ---------------------------------------------------------------- start
          function describeRefresh() {
            setText("footer", "Refreshes every " + options.interval / 1000 + " s from /stats, /backends and /flows"
              + (options.token ? " with a bearer token." : "."));
          }
          window.addEventListener("hashchange", () => { options = readOptions(); describeRefresh(); poll(); });
          describeRefresh();
          poll();
        })();
        </script>
        </body>
        </html>
        """#
}
