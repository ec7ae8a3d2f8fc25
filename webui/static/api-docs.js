// Starts Swagger UI on the page's OpenAPI document (a file, not inline: the page's
// Content-Security-Policy allows scripts from this server only).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.document,
    domNode: root,
    deepLinking: true,
    tryItOutEnabled: false,
  });
});
