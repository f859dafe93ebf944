// The hippo graph picture: a Streamlit component (protocol v1) drawing nodes and edges with vis-network.
// Python sends {nodes, edges, height}; a click on a node sends back {node: id, token: unique per click}.
"use strict";
(function () {
  let network = null;
  let drawn = "";

  function post(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data || {}), "*");
  }

  const OPTIONS = {
    autoResize: true,
    interaction: { hover: true, tooltipDelay: 150, navigationButtons: false, keyboard: false },
    nodes: {
      shape: "dot",
      scaling: { min: 8, max: 36, label: { enabled: false } },
      font: { size: 13, face: "sans-serif", color: "#1f2328", strokeWidth: 3, strokeColor: "#ffffff" },
      borderWidth: 1,
    },
    edges: {
      smooth: false,
      color: { color: "#9aa3ad", highlight: "#e4572e", hover: "#5b6570" },
      font: { size: 10, face: "sans-serif", color: "#5b6570", strokeWidth: 3, strokeColor: "#ffffff", align: "middle" },
      scaling: { min: 1, max: 6, label: { enabled: false } },
    },
    physics: {
      solver: "forceAtlas2Based",
      forceAtlas2Based: { gravitationalConstant: -60, springLength: 90, avoidOverlap: 0.4 },
      stabilization: { enabled: true, iterations: 300, fit: true },
    },
  };

  function draw(args) {
    const signature = JSON.stringify([args.nodes, args.edges, args.height]);
    if (signature === drawn) {
      return;
    }
    drawn = signature;
    const container = document.getElementById("graph");
    container.style.height = args.height + "px";
    if (network !== null) {
      network.destroy();
    }
    const data = { nodes: new vis.DataSet(args.nodes), edges: new vis.DataSet(args.edges) };
    network = new vis.Network(container, data, OPTIONS);
    window.hippoNetwork = network; // for the browser test: node positions to click on
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({ physics: false });
      network.fit();
      document.body.dataset.ready = "true";
    });
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
  }

  window.addEventListener("message", function (event) {
    if (event.data && event.data.type === "streamlit:render") {
      draw(event.data.args);
    }
  });
  post("streamlit:componentReady", { apiVersion: 1 });
})();
