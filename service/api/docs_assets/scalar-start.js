// Starts Scalar on the element that names the OpenAPI document, without what would reach
// scalar.com: its web fonts, telemetry, request proxy, AI agent and MCP generator, and
// without the developer toolbar it shows on localhost.
(function () {
  "use strict";
  var element = document.getElementById("scalar-docs");
  Scalar.createApiReference(element, {
    url: element.dataset.document,
    withDefaultFonts: false,
    telemetry: false,
    proxyUrl: "",
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: "never",
  });
})();
