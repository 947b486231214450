/* global document, window, fetch, uPlot, URLSearchParams */
// The dashboard page: polls /api/metrics for new JSON Lines records and redraws the charts.
// window.fathomDashboard exposes counts for tests (records seen, points per chart, polls).
(function () {
  'use strict';
  var params = new URLSearchParams(window.location.search);
  var interval = Number(params.get('interval')) || 1000;
  var offset = 0;
  var state = {
    steps: [],
    loss: [],
    val: [],
    unigram: [],
    lr: [],
    tps: [],
    grad: [],
    layers: [],
    moe: [],
  };
  // The expert heat map follows the newest log step until the slider is moved back.
  var expertFollow = true;
  var info = {
    records: 0,
    polls: 0,
    points: { loss: 0, val: 0, lr: 0, tps: 0, grad: 0 },
    heatmapColumns: 0,
    expert: { steps: 0, shown: -1, layers: 0, experts: 0 },
    lastEvent: '',
  };
  window.fathomDashboard = info;

  function width(id) {
    return Math.max(320, document.getElementById(id).clientWidth - 8);
  }
  function chart(id, series, opts) {
    var o = Object.assign(
      {
        width: width(id),
        height: 220,
        scales: { x: { time: false } },
        axes: [{ label: 'step' }, {}],
        series: [{ label: 'step' }].concat(series),
      },
      opts || {},
    );
    return new uPlot(
      o,
      [[]].concat(
        series.map(function () {
          return [];
        }),
      ),
      document.getElementById(id),
    );
  }
  var charts = {
    loss: chart('chart-loss', [
      { label: 'train', stroke: '#0969da', width: 1.5 },
      {
        label: 'validation',
        stroke: '#cf222e',
        width: 2,
        points: { show: true, size: 6 },
        spanGaps: true,
      },
      { label: 'unigram baseline', stroke: '#8c959f', dash: [6, 4] },
    ]),
    lr: chart('chart-lr', [{ label: 'lr', stroke: '#8250df', width: 1.5 }]),
    tps: chart('chart-tps', [{ label: 'tokens/s', stroke: '#1a7f37', width: 1.5 }]),
    grad: chart('chart-grad', [{ label: 'grad norm', stroke: '#bc4c00', width: 1.5 }]),
  };

  function reset() {
    Object.keys(state).forEach(function (k) {
      state[k] = [];
    });
    expertFollow = true;
    offset = 0;
  }

  function add(record) {
    info.records++;
    if (record.type === 'event') {
      info.lastEvent = record.event + ' @ step ' + record.step;
      return;
    }
    var i = state.steps.indexOf(record.step);
    if (i < 0) {
      state.steps.push(record.step);
      ['loss', 'val', 'unigram', 'lr', 'tps', 'grad'].forEach(function (k) {
        state[k].push(null);
      });
      state.layers.push(null);
      i = state.steps.length - 1;
    }
    if (record.type === 'train') {
      state.loss[i] = record.loss;
      state.lr[i] = record.lr;
      state.tps[i] = record.tokensPerSecond;
      state.grad[i] = record.gradNorm;
      state.layers[i] = record.layerGradNorms;
      if (record.moe) {
        var j = state.moe.findIndex(function (m) {
          return m.step === record.step;
        });
        var entry = { step: record.step, layers: record.moe };
        if (j < 0) state.moe.push(entry);
        else state.moe[j] = entry;
      }
    } else if (record.type === 'eval') {
      state.val[i] = record.valLoss;
      state.unigram[i] = record.unigramEntropy;
    }
  }

  function count(values) {
    return values.filter(function (v) {
      return v !== null && v !== undefined;
    }).length;
  }

  function drawHeatmap() {
    var canvas = document.getElementById('heatmap');
    var ctx = canvas.getContext('2d');
    var columns = state.layers.filter(function (l) {
      return l;
    });
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    info.heatmapColumns = columns.length;
    if (!columns.length) return;
    var layers = columns[0].length;
    var lo = Infinity,
      hi = -Infinity;
    columns.forEach(function (c) {
      c.forEach(function (v) {
        if (v > 0) {
          var l = Math.log10(v);
          lo = Math.min(lo, l);
          hi = Math.max(hi, l);
        }
      });
    });
    if (!isFinite(lo)) {
      lo = 0;
      hi = 1;
    }
    if (hi - lo < 1e-9) hi = lo + 1;
    var cw = canvas.width / columns.length,
      ch = canvas.height / layers;
    columns.forEach(function (c, x) {
      c.forEach(function (v, y) {
        var t = v > 0 ? (Math.log10(v) - lo) / (hi - lo) : 0;
        // Dark blue (small) → yellow (large).
        var r = Math.round(30 + 225 * t),
          g = Math.round(40 + 190 * t),
          b = Math.round(120 - 90 * t);
        ctx.fillStyle = 'rgb(' + r + ',' + g + ',' + b + ')';
        ctx.fillRect(
          Math.floor(x * cw),
          Math.floor((layers - 1 - y) * ch),
          Math.ceil(cw),
          Math.ceil(ch),
        );
      });
    });
    document.getElementById('heatmap-legend').textContent =
      'layer 0 at the bottom, layer ' +
      (layers - 1) +
      ' at the top; colour from 10^' +
      lo.toFixed(2) +
      ' (dark) to 10^' +
      hi.toFixed(2) +
      ' (bright); ' +
      columns.length +
      ' steps';
  }

  // Expert load of one log step: a row per MoE layer, a column per expert, each cell the share
  // of tokens that activated the expert (0 dark, the step's largest value bright; the uniform
  // load k/E is marked in the legend).
  function drawExperts() {
    var section = document.getElementById('expert-section');
    var slider = document.getElementById('expert-step');
    info.expert.steps = state.moe.length;
    if (!state.moe.length) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    slider.max = String(state.moe.length - 1);
    if (expertFollow) slider.value = slider.max;
    var shown = Math.min(Number(slider.value), state.moe.length - 1);
    var entry = state.moe[shown];
    var layers = entry.layers;
    var experts = layers.reduce(function (n, l) {
      return Math.max(n, l.activationFrequency.length);
    }, 0);
    info.expert.shown = entry.step;
    info.expert.layers = layers.length;
    info.expert.experts = experts;
    document.getElementById('expert-step-label').textContent = 'step ' + entry.step;
    var canvas = document.getElementById('expert-heatmap');
    var ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    var hi = 0;
    layers.forEach(function (l) {
      l.activationFrequency.forEach(function (v) {
        if (v > hi) hi = v;
      });
    });
    if (!(hi > 0)) hi = 1;
    var labelWidth = 150;
    var cw = (canvas.width - labelWidth) / experts,
      ch = canvas.height / layers.length;
    ctx.font = '12px sans-serif';
    ctx.textBaseline = 'middle';
    layers.forEach(function (l, y) {
      ctx.fillStyle = '#24292f';
      ctx.textAlign = 'left';
      ctx.fillText(l.name, 4, (y + 0.5) * ch);
      l.activationFrequency.forEach(function (v, x) {
        var t = v === null || !isFinite(v) ? 0 : Math.max(0, Math.min(1, v / hi));
        var r = Math.round(30 + 225 * t),
          g = Math.round(40 + 190 * t),
          b = Math.round(120 - 90 * t);
        ctx.fillStyle = 'rgb(' + r + ',' + g + ',' + b + ')';
        var px = labelWidth + Math.floor(x * cw);
        ctx.fillRect(px, Math.floor(y * ch), Math.ceil(cw), Math.ceil(ch));
        if (cw >= 36 && ch >= 16) {
          ctx.fillStyle = t > 0.6 ? '#000' : '#fff';
          ctx.textAlign = 'center';
          ctx.fillText(v === null ? '–' : v.toFixed(2), px + cw / 2, (y + 0.5) * ch);
        }
      });
    });
    var first = layers[0];
    var k = first
      ? first.activationFrequency.reduce(function (a, v) {
          return a + (v || 0);
        }, 0)
      : 0;
    document.getElementById('expert-legend').textContent =
      'step ' +
      entry.step +
      ' (' +
      (shown + 1) +
      ' of ' +
      state.moe.length +
      ' log steps); colour from 0 (dark) to ' +
      hi.toFixed(3) +
      ' (bright); a uniform load is ' +
      (experts ? (k / experts).toFixed(3) : '–') +
      ' per expert; load CV ' +
      layers
        .map(function (l) {
          return l.loadCv === null ? '–' : l.loadCv.toFixed(3);
        })
        .join(', ');
  }

  function redraw() {
    var x = state.steps;
    var baseline = state.unigram.filter(function (v) {
      return v !== null;
    })[0];
    charts.loss.setData([
      x,
      state.loss,
      state.val,
      x.map(function () {
        return baseline === undefined ? null : baseline;
      }),
    ]);
    charts.lr.setData([x, state.lr]);
    charts.tps.setData([x, state.tps]);
    charts.grad.setData([x, state.grad]);
    info.points = {
      loss: count(state.loss),
      val: count(state.val),
      lr: count(state.lr),
      tps: count(state.tps),
      grad: count(state.grad),
    };
    drawHeatmap();
    drawExperts();
    var last = x.length ? x[x.length - 1] : 0;
    var loss = state.loss
      .filter(function (v) {
        return v !== null;
      })
      .pop();
    document.getElementById('status').textContent =
      'step ' +
      last +
      (loss !== undefined ? ' · loss ' + loss.toFixed(4) : '') +
      ' · ' +
      info.records +
      ' records' +
      (info.lastEvent ? ' · last event: ' + info.lastEvent : '');
  }

  function poll() {
    fetch('/api/metrics?offset=' + offset, { cache: 'no-store' })
      .then(function (r) {
        return r.json();
      })
      .then(function (body) {
        info.polls++;
        if (body.reset) reset();
        offset = body.offset;
        if (body.records.length) {
          body.records.forEach(add);
          redraw();
        }
      })
      .catch(function () {
        /* the trainer may not have written yet; try again */
      })
      .then(function () {
        window.setTimeout(poll, interval);
      });
  }

  document.getElementById('expert-step').addEventListener('input', function (e) {
    expertFollow = Number(e.target.value) === state.moe.length - 1;
    drawExperts();
  });

  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (k) {
      charts[k].setSize({ width: width('chart-' + k), height: 220 });
    });
  });
  poll();
})();
