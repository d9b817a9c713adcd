// Starts Swagger UI on the element that names the OpenAPI document (no inline script:
// the docs page's Content-Security-Policy allows scripts from this origin only).
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.document,
    domNode: element,
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    persistAuthorization: false,
    validatorUrl: null, // the default asks validator.swagger.io for a badge
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
