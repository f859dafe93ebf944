// The hippo graph picture: a Streamlit component (protocol v1) drawing nodes and edges with vis-network.
// Python sends {nodes, edges, height}, every node with its x/y from a seeded layout, so the same graph
// is drawn the same way on every rerun and no physics runs in the browser. A click on a node sends
// back {node: id, token: unique per click}.
//
// The view is fitted whenever the drawing area gets a new size (a ResizeObserver): a picture drawn
// while its frame was zero-sized (a rerun that moved the frame, a hidden tab) used to stay blank
// until the window was resized.
"use strict";
(function () {
  let network = null;
  let drawn = "";
  let height = 460;
  const frame = document.getElementById("frame");
  const container = document.getElementById("graph");
  const button = document.getElementById("fullscreen");

  function post(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data || {}), "*");
  }

  const OPTIONS = {
    autoResize: true,
    physics: false,
    layout: { randomSeed: 7, improvedLayout: false },
    interaction: { hover: true, tooltipDelay: 150, navigationButtons: false, keyboard: false },
    nodes: {
      shape: "dot",
      scaling: { min: 10, max: 34, label: { enabled: false } },
      font: { size: 16, face: "sans-serif", color: "#1f2328", strokeWidth: 4, strokeColor: "#ffffff" },
      borderWidth: 1,
    },
    edges: {
      smooth: false,
      color: { color: "#9aa3ad", highlight: "#e4572e", hover: "#5b6570" },
      font: { size: 13, face: "sans-serif", color: "#5b6570", strokeWidth: 4, strokeColor: "#ffffff", align: "middle" },
      scaling: { min: 1, max: 6, label: { enabled: false } },
    },
  };

  function fit() {
    if (network === null || container.clientWidth === 0 || container.clientHeight === 0) {
      return false;
    }
    network.setSize(container.clientWidth + "px", container.clientHeight + "px");
    network.redraw();
    network.fit({ animation: false, minZoomLevel: 0.65, maxZoomLevel: 1.6 });
    document.body.dataset.ready = "true";
    return true;
  }

  new ResizeObserver(fit).observe(container);

  function draw(args) {
    height = args.height;
    const signature = JSON.stringify([args.nodes, args.edges, args.height]);
    if (signature === drawn) {
      fit(); // same picture: keep it, but make sure it is sized to the frame as it is now
      return;
    }
    drawn = signature;
    if (!document.fullscreenElement) {
      container.style.height = args.height + "px";
    }
    if (network !== null) {
      network.destroy();
    }
    document.body.dataset.ready = "false";
    const data = { nodes: new vis.DataSet(args.nodes), edges: new vis.DataSet(args.edges) };
    network = new vis.Network(container, data, OPTIONS);
    window.hippoNetwork = network; // for the browser test: node positions to click on
    network.on("click", function (params) {
      if (params.nodes.length > 0) {
        const token = Date.now() + "-" + Math.random().toString(36).slice(2);
        post("streamlit:setComponentValue", { value: { node: params.nodes[0], token: token }, dataType: "json" });
      }
    });
    network.on("hoverNode", function () { container.style.cursor = "pointer"; });
    network.on("blurNode", function () { container.style.cursor = "default"; });
    document.body.dataset.nodes = String(args.nodes.length);
    post("streamlit:setFrameHeight", { height: args.height + 4 });
    fit();
  }

  button.addEventListener("click", function () {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (frame.requestFullscreen) {
      frame.requestFullscreen();
    }
  });
  document.addEventListener("fullscreenchange", function () {
    const full = document.fullscreenElement === frame;
    button.textContent = full ? "Leave full screen" : "Full screen";
    container.style.height = full ? "100vh" : height + "px";
    fit();
  });

  window.addEventListener("message", function (event) {
    if (event.data && event.data.type === "streamlit:render") {
      draw(event.data.args);
    }
  });
  post("streamlit:componentReady", { apiVersion: 1 });
})();
