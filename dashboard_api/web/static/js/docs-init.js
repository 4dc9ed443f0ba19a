// Swagger UI of the API, from the installed swagger-ui-bundle wheel (no CDN: the page works
// without internet access). A file rather than an inline script: the page's CSP forbids inline code.
"use strict";
window.addEventListener("load", function () {
  window.ui = window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
});
